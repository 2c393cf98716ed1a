"""The help desk core: domain types, pure rules and use cases. No aiogram, no Telegram."""
