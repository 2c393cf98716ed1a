from aiogram.fsm.state import State, StatesGroup


class AskQuestion(StatesGroup):
    """The user's dialog: role → topic → category → question → confirmation."""

    role = State()
    topic = State()
    category = State()
    question = State()
    confirm = State()


class FaqSearch(StatesGroup):
    """/faq: the next message is the words to look for."""

    query = State()


class EscalateTicket(StatesGroup):
    """A specialist passes a ticket to the deputy director: the next message is the comment."""

    comment = State()


class ComplaintDialog(StatesGroup):
    """A user's complaint about a specialist: the next message is the complaint, for the director only."""

    text = State()


class RateTicket(StatesGroup):
    """After rating a ticket: the next message is an optional comment."""

    comment = State()


class ConsentDialog(StatesGroup):
    """The personal-data notice is shown: the user's decision (a button) is expected; what they write
    meanwhile is kept as the draft of their question."""

    notice = State()
