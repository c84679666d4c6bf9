"""Understanding user messages: normalisation, intent matching and entity extraction.

Pure code: nothing here reads files, talks to a database or knows about Telegram.
"""
