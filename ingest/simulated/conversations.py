"""The kinds of simulated conversation: who posts what, in which order, after what delay.

- `mention_conversation`: a customer mentions a department, which answers (or nobody
  does), sometimes over several turns, sometimes handing off to another department;
- `org_started_conversation`: a department posts, customers reply, the department answers;
- `handoff`: one department points the customer at another, which answers in the thread;
- `lone_broadcast`: a department posts and nobody answers.

Each draws from the day's RNG in a fixed order: changing that order changes every later
conversation of the day (tests/unit/test_simulated_pinned.py notices).
"""

from __future__ import annotations

from . import texts
from .draws import TemplateContext
from .population import OrgAccount, XUser
from .posts import Message, PostWriter

# Shares of conversations of each shape (the structure fixes answered / co-handled).
CC_SHARE = 0.06
BOT_SHARE = 0.05
BUMP_SHARE = 0.35
# Customer turns after a department's first answer: mostly none or one.
_EXCHANGES = (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3)


def mention_conversation(
    writer: PostWriter,
    start: int,
    customer: XUser,
    primary: str,
    referred: str | None,
    answered: bool,
) -> None:
    draws = writer.draws
    r = draws.random
    world = writer.world
    context = draws.context(customer)
    first = draws.account(primary)
    root = _mention(writer, start, customer, first, primary, referred, context)
    bot = world.population.bot
    if bot is not None and r() < BOT_SHARE:
        body = draws.pick(texts.BOT_REPLIES).format_map(context)
        writer.post(
            writer.after(start, draws.between(20, 180)),
            bot,
            f"@{customer.username} {body}",
            [customer],
            root,
        )
    if not answered:
        if r() < BUMP_SHARE:
            bump = draws.pick(texts.BUMPS).format_map(context)
            writer.customer_reply(
                writer.after(start, draws.between(2 * 3600, 20 * 3600)), customer, bump, root
            )
        return
    when = writer.after(start, draws.first_response_delay())
    if referred is None:
        _answer_over_turns(writer, when, first, customer, context, root)
        return
    parent = root
    if r() < 0.3:
        asked = writer.org_reply(when, first, customer, texts.CLARIFYING_REPLIES, context, root)
        when = writer.after(when, draws.customer_delay())
        context["team"] = primary
        body = draws.pick(texts.CUSTOMER_FOLLOWUPS).format_map(context)
        parent = writer.customer_reply(when, customer, body, asked)
        when = writer.after(when, draws.followup_delay())
    handoff(writer, when, first, draws.account(referred), customer, context, parent)


def _mention(
    writer: PostWriter,
    start: int,
    customer: XUser,
    first: OrgAccount,
    primary: str,
    referred: str | None,
    context: TemplateContext,
) -> Message:
    """The customer's opening post: to `first`, on the topics of the department it is for."""
    draws = writer.draws
    topic_profile = writer.world.profiles[referred or primary]
    body = draws.pick(texts.OPENERS[topic_profile]).format_map(context)
    body += draws.pick(texts.EMOJI_TAILS)
    departments = writer.world.population.departments
    if len(departments) > 2 and draws.random() < CC_SHARE:
        others = [d for d in departments if d not in (primary, referred)]
        cc = draws.account(draws.pick(others)).user
        return writer.post(
            start,
            customer,
            f"@{first.user.username} @{cc.username} {body}",
            [first.user, cc],
            None,
        )
    text = draws.pick(texts.MENTION_FRAMES).format(
        dept="@" + first.user.username, body=body, Body=body[0].upper() + body[1:]
    )
    return writer.post(start, customer, text, [first.user], None)


def _answer_over_turns(
    writer: PostWriter,
    when: int,
    account: OrgAccount,
    customer: XUser,
    context: TemplateContext,
    root: Message,
) -> None:
    """`account` answers the mention, then customer and department take a few turns."""
    draws = writer.draws
    profile = writer.world.profiles[account.department]
    last = writer.org_reply(when, account, customer, texts.FIRST_REPLIES[profile], context, root)
    rounds = draws.pick(_EXCHANGES)
    for turn in range(rounds):
        context["team"] = account.department
        when = writer.after(when, draws.customer_delay())
        body = draws.pick(texts.CUSTOMER_FOLLOWUPS).format_map(context)
        answer = writer.customer_reply(when, customer, body, last)
        if turn == rounds - 1 and draws.random() < 0.3:
            break
        when = writer.after(when, draws.followup_delay())
        last = writer.org_reply(
            when, account, customer, texts.DEPARTMENT_FOLLOWUPS[profile], context, answer
        )


def handoff(
    writer: PostWriter,
    when: int,
    referrer: OrgAccount,
    target: OrgAccount,
    customer: XUser,
    context: TemplateContext,
    parent: Message,
) -> None:
    """`referrer` points the customer at `target`, which then answers in the thread."""
    draws = writer.draws
    r = draws.random
    last = writer.referral(when, referrer, target, customer, context, parent)
    if r() < 0.4:
        when = writer.after(when, draws.customer_delay())
        last = writer.customer_reply(when, customer, draws.pick(texts.THANKS), last)
    when = writer.after(when, draws.handoff_delay())
    target_profile = writer.world.profiles[target.department]
    last = writer.org_reply(
        when, target, customer, texts.HANDOFF_REPLIES[target_profile], context, last
    )
    # Up to here everything is on the start day and the referrer posts no more, so a
    # window bounded by UTC midnights sees this conversation as co-handled exactly
    # when it contains the start day. Later turns may run past midnight.
    writer.lift_limit()
    if r() < 0.5:
        context["team"] = target.department
        when = writer.after(when, draws.customer_delay())
        body = draws.pick(texts.CUSTOMER_FOLLOWUPS).format_map(context)
        answer = writer.customer_reply(when, customer, body, last)
        if r() < 0.6:
            when = writer.after(when, draws.followup_delay())
            writer.org_reply(
                when,
                target,
                customer,
                texts.DEPARTMENT_FOLLOWUPS[target_profile],
                context,
                answer,
            )


def org_started_conversation(
    writer: PostWriter, start: int, customer: XUser, primary: str, referred: str | None
) -> None:
    draws = writer.draws
    world = writer.world
    context = draws.context(customer)
    account = draws.account(primary)
    profile = world.profiles[primary]
    text = draws.pick(texts.BROADCASTS[profile]).format_map(context)
    root = writer.post(start, account.user, text, [], None)
    when = writer.after(start, draws.between(600, 3 * 3600))
    if referred is None:
        body = draws.pick(texts.BROADCAST_REPLIES[profile]).format_map(context)
    else:
        body = draws.pick(texts.OPENERS[world.profiles[referred]]).format_map(context)
    opener = writer.customer_reply(when, customer, body, root)
    answer_at = writer.after(when, draws.first_response_delay())
    if referred is None:
        writer.org_reply(answer_at, account, customer, texts.BROADCAST_ANSWERS, context, opener)
    else:
        handoff(writer, answer_at, account, draws.account(referred), customer, context, opener)
    _other_customers_reply(writer, when, customer, account, referred, context, (root, opener))


def _other_customers_reply(
    writer: PostWriter,
    when: int,
    customer: XUser,
    account: OrgAccount,
    referred: str | None,
    context: TemplateContext,
    thread: tuple[Message, Message],
) -> None:
    """Up to two more customers reply to the org post (or to the first customer's reply)."""
    draws = writer.draws
    r = draws.random
    root, opener = thread
    profile = writer.world.profiles[account.department]
    others = (r() < 0.45) + (r() < 0.2 and referred is None)
    for _ in range(others):
        other = draws.customer()
        if other.id == customer.id:
            continue
        context["first"] = other.name.split()[0].capitalize()
        when = writer.after(when, draws.customer_delay())
        parent = opener if r() < 0.3 else root
        body = draws.pick(texts.BROADCAST_REPLIES[profile]).format_map(context)
        reply = writer.customer_reply(when, other, body, parent)
        if referred is None and r() < 0.5:
            writer.org_reply(
                writer.after(when, draws.followup_delay()),
                account,
                other,
                texts.BROADCAST_ANSWERS,
                context,
                reply,
            )


def lone_broadcast(writer: PostWriter, department: str) -> None:
    draws = writer.draws
    account = draws.account(department)
    context = draws.context(writer.world.population.customer(0))
    text = draws.pick(texts.BROADCASTS[writer.world.profiles[department]]).format_map(context)
    root_ms = draws.start_ms()
    writer.begin(root_ms)
    writer.post(root_ms // 1000, account.user, text, [], None)
