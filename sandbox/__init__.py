"""The local sandbox: the whole help desk in a browser, with a fake Telegram on 127.0.0.1 (``make run`` without a
token, or ``python main.py sandbox``)."""
