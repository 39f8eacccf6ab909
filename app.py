"""Start the askkhorasan browser app: `python app.py [--host 127.0.0.1] [--port 7860]`."""

import argparse

from askkhorasan.webapp import serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="askkhorasan: ask the sources in your browser")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--corpus", default="corpus", help="folder of source files")
    parser.add_argument("--index", default="index", help="folder the index lives in, or milvus-lite:FILE.db, or milvus://HOST:PORT")
    parser.add_argument("--max-source-mb", type=float, default=None,
                        help="skip (and refuse uploads of) sources larger than this (default 20)")
    parser.add_argument("--token-file", default=None, help="require the token in this file for uploads "
                        "(or set ASKKHORASAN_TOKEN)")
    parser.add_argument("--allow-uploads-without-token", action="store_true",
                        help="allow uploads on a non-loopback --host with no token")
    args = parser.parse_args()
    serve(corpus_dir=args.corpus, index_dir=args.index, host=args.host, port=args.port, max_source_mb=args.max_source_mb,
          token_file=args.token_file, allow_uploads_without_token=args.allow_uploads_without_token)
