"""Start the askkhorasan browser app: `python app.py [--host 127.0.0.1] [--port 7860]`."""

import argparse

from askkhorasan.webapp import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="askkhorasan: ask the sources in your browser")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--corpus", default="corpus", help="folder of source files")
    parser.add_argument("--index", default="index", help="folder the index lives in")
    parser.add_argument("--max-source-mb", type=float, default=None,
                        help="skip (and refuse uploads of) sources larger than this (default 20)")
    args = parser.parse_args()
    serve(corpus_dir=args.corpus, index_dir=args.index, host=args.host, port=args.port, max_source_mb=args.max_source_mb)
