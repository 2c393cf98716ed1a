from aiogram.fsm.state import State, StatesGroup


class AskQuestion(StatesGroup):
    """The user's dialog: role → topic → category → question → confirmation."""

    role = State()
    topic = State()
    category = State()
    question = State()
    confirm = State()
