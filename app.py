"""Start the askkhorasan browser app: `python app.py [--host 127.0.0.1] [--port 7860] [--corpus corpus] ...`.

The same app, with the same options, as `askkhorasan serve` and `python -m askkhorasan`.
"""

from askkhorasan.cli import serve_app

if __name__ == "__main__":
    serve_app()
