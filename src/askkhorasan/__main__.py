"""`python -m askkhorasan [--host 127.0.0.1] [--port 7860] ...`: the browser app, as `askkhorasan serve`."""

from .cli import serve_app

if __name__ == "__main__":
    serve_app()
