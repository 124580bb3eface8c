"""What people say: templated texts per kind of department.

A department's kind ("profile") is read from its name and handles (Customer Care ->
support, HR -> jobs, ...). Templates are `str.format` strings over a per-conversation
context (one order number, product, job title ... per conversation, so a thread stays on
topic). Templates never contain '@': every mention is put in by the generator, which
knows where it is and records its offsets.
"""

from __future__ import annotations

import re

SUPPORT, SALES, MARKETING, JOBS, IDEAS, GENERAL = (
    "support",
    "sales",
    "marketing",
    "jobs",
    "ideas",
    "general",
)

_PROFILE_KEYWORDS = (
    (
        JOBS,
        (
            "hr",
            "career",
            "careers",
            "job",
            "jobs",
            "talent",
            "recruit",
            "recruiting",
            "people",
            "hiring",
        ),
    ),
    (IDEAS, ("innovation", "lab", "labs", "product", "research", "ideas", "rnd")),
    (SALES, ("sales", "shop", "store", "commerce", "pricing", "business", "deals")),
    (SUPPORT, ("care", "support", "help", "service", "customer", "customers")),
    (MARKETING, ("marketing", "brand", "social", "comms", "communications", "pr", "news")),
)

# How often a department of each kind is picked for a solo conversation (relative).
PROFILE_WEIGHTS = {SUPPORT: 3.0, SALES: 2.0, MARKETING: 2.0, JOBS: 1.2, IDEAS: 1.2, GENERAL: 1.5}

TOPICS = {
    SUPPORT: "orders, returns and refunds",
    SALES: "pricing and quotes",
    MARKETING: "promotions and campaigns",
    JOBS: "job applications",
    IDEAS: "product ideas and feedback",
    GENERAL: "this",
}


def department_profile(name: str, handles: list[str]) -> str:
    """The kind of department, from keywords in its name, then in its handles."""
    words = set(re.findall(r"[a-z]+", name.lower()))
    for profile, keywords in _PROFILE_KEYWORDS:
        if words & set(keywords):
            return profile
    lowered = [handle.lower() for handle in handles]
    for profile, keywords in _PROFILE_KEYWORDS:
        for keyword in keywords:
            if len(keyword) > 3 and any(keyword in handle for handle in lowered):
                return profile
    return GENERAL


# --- customer openers: the body of a mention (the department's handle is put around it)
OPENERS = {
    SUPPORT: (
        "my order {order} still hasn't arrived and it's been {days} days. Any update?",
        "I was charged twice for order {order}. Can someone look into this please",
        "the {product} I got last week stopped working after two uses. How do I get a replacement?",
        "how do I return a {product}? The returns page keeps showing an error",
        "been on hold for {minutes} minutes now... is anyone actually there?",
        "my refund for {order} was promised {days} days ago and still nothing",
        "can't log into my account since the update, the password reset email never arrives",
        "tracking for {order} says delivered but there's nothing here. Help?",
        "the {product} arrived with a cracked screen. Really disappointed",
        "why was my order {order} cancelled without any email?",
        "your app keeps crashing when I try to pay. Tried reinstalling already",
        "wrong size delivered for order {order}, can I swap it in store in {city}?",
    ),
    SALES: (
        "do you offer volume discounts on the {product}? We need about {qty} for our office",
        "what's the difference between the {plan} and {plan2} plans, price-wise?",
        "is the {product} back in stock anytime soon?",
        "can I get a quote for {qty} units of the {product}?",
        "does the {plan} plan include support for teams of {qty}?",
        "thinking of upgrading to {plan2}. Is there a discount for switching from {plan}?",
        "do you ship business orders to {city}? Need {qty} {product}s by next month",
        "is there a student price for the {product}?",
    ),
    MARKETING: (
        "love the new {product} ad!! what's the song?",
        "is the {campaign} promo still running? the code {code} isn't working for me",
        "when does the {campaign} giveaway close?",
        "your post said free shipping this week but checkout charges me {amount}",
        "any chance the {product} comes in other colours?",
        "saw your {campaign} billboard in {city}, where can I see the full video?",
        "are you doing a {campaign} event in {city} this year?",
        "I entered the {campaign} contest, how will winners be contacted?",
    ),
    JOBS: (
        "I applied for the {job} role {days} days ago, any idea when I'll hear back?",
        "are you hiring {job}s in {city}?",
        "is the {job} position open to remote candidates?",
        "had my interview for {job} last week, who should I follow up with?",
        "do you have internships for students in {city}?",
        "the careers page won't let me upload my CV for the {job} opening",
        "what's the interview process like for a {job}?",
    ),
    IDEAS: (
        "idea: let the {product} sync with my calendar. Would use it every day",
        "would love {feature} in the next {product}",
        "has anyone suggested {feature}? Happy to beta test",
        "the {product} really needs {feature}. Who do I send feedback to?",
        "any plans for an open API for the {product}? I'd build on it",
        "small idea for the {product}: {feature}. Would make my mornings easier",
        "is there a beta programme for new {product} features?",
    ),
    GENERAL: (
        "quick question about the {product}, who can help?",
        "is there someone I can talk to about my account?",
        "where can I find your opening hours in {city}?",
        "who do I contact about a partnership?",
    ),
}

# Where the customer puts the department's handle ({Body}: the body capitalised).
MENTION_FRAMES = (
    "{dept} {body}",
    "{dept} {body}",
    "Hey {dept}, {body}",
    "{Body} {dept}",
    "{dept} hi! {Body}",
)

# --- a department's first response
FIRST_REPLIES = {
    SUPPORT: (
        "Sorry to hear that, {first}! Could you send us a DM with your order number so we "
        "can take a look?{sign}",
        "Hi {first}, thanks for flagging. We've escalated {order} to our delivery team and "
        "will update you within 24 hours.{sign}",
        "That's not the experience we want for you. We've sent you a DM to sort this out.{sign}",
        "Hi {first}! Could you try clearing the app cache and restarting? If it still fails, "
        "DM us and we'll help.{sign}",
        "Sorry for the wait, {first}. Your refund for {order} was processed today, it can "
        "take 3-5 working days to show.{sign}",
        "Thanks for your patience {first}. Can you confirm the postcode on the order?{sign}",
    ),
    SALES: (
        "Hi {first}! Yes, we offer tiered pricing from 10 units. Can you DM us your email "
        "so we can send a quote?{sign}",
        "Great question! {plan2} adds priority support and more seats. Happy to walk you "
        "through it in a DM.{sign}",
        "The {product} is back in stock next week, {first}. Want us to reserve {qty}?{sign}",
        "Thanks for your interest! A quote for {qty} units is on its way by email.{sign}",
        "Hi {first}, teams of {qty} are covered on {plan}. Let's set up a quick call.{sign}",
    ),
    MARKETING: (
        "So glad you like it, {first}! The track is on our playlist, link in bio.",
        "Thanks {first}! The {campaign} promo runs until Sunday, try the code in capitals.",
        "Winners are picked on Friday and contacted by DM. Good luck {first}!",
        "Free shipping applies to orders over {amount}, {first}. Sorry for the confusion!",
        "More colours are coming this spring, stay tuned {first}!",
        "Yes! The {campaign} event comes to {city} in May, details soon.",
    ),
    JOBS: (
        "Hi {first}, thanks for applying! Our recruiters review applications within two "
        "weeks. Hang in there.",
        "We are! All {job} openings in {city} are on our careers page.",
        "Most of our {job} roles are hybrid, {first}. The job post lists the options.",
        "Thanks for interviewing with us, {first}! Your recruiter will be in touch this week.",
        "Sorry about that, {first}! Could you try a PDF under 5 MB? DM us if it still fails.",
        "Usually a screening call, a task and a panel interview. Good luck {first}!",
    ),
    IDEAS: (
        "Love this idea, {first}! Passing it to the {product} team right now.",
        "Thanks {first}! {feature} is on our roadmap, we'll share news soon.",
        "We'd love your input, {first}! Sign-ups for the beta open next month.",
        "Great suggestion. Mind if we DM you for a 10-minute feedback call?",
        "An open API is something we're exploring. Thanks for the nudge, {first}!",
    ),
    GENERAL: (
        "Hi {first}, happy to help! Could you DM us a few details?",
        "Thanks for reaching out, {first}. Our opening hours in {city} are 9-6 on weekdays.",
        "Hi {first}, we've passed your message to the right team.",
    ),
}

# --- later turns
CUSTOMER_FOLLOWUPS = (
    "sent you a DM",
    "thanks, DM sent with the details",
    "ok that worked, thank you!",
    "still waiting on this one...",
    "nobody has answered my DM yet",
    "thanks for the quick reply!",
    "done. order number is in the DM",
    "it's {order}",
    "tried that already, same problem",
    "great, thanks {team}!",
    "any news? it's been a while",
    "perfect, that's what I needed",
)
DEPARTMENT_FOLLOWUPS = {
    SUPPORT: (
        "Got it, thanks {first}! We'll update you here within 24 hours.{sign}",
        "Thanks! We've replied to your DM.{sign}",
        "Glad we could help, {first}! Have a great day.{sign}",
        "Sorry for the delay {first}, a replacement ships tomorrow.{sign}",
        "Thanks for your patience. We've raised this as urgent.{sign}",
    ),
    SALES: (
        "Thanks {first}! The quote is in your inbox.{sign}",
        "Perfect, our account manager will call you tomorrow.{sign}",
        "Anytime! Let us know if you have more questions.{sign}",
    ),
    MARKETING: (
        "Enjoy, {first}!",
        "Thanks for being part of {campaign}!",
        "You're welcome! Stay tuned for more.",
    ),
    JOBS: (
        "Thanks {first}, we've nudged the hiring team for you.",
        "Best of luck with your application!",
        "Your recruiter will reach out by email this week.",
    ),
    IDEAS: (
        "Thanks {first}, noted for the next planning round!",
        "You're on the beta list now. Welcome aboard!",
        "Keep the ideas coming!",
    ),
    GENERAL: (
        "Thanks {first}, you're welcome!",
        "Happy to help!",
    ),
}
BROADCAST_ANSWERS = (
    "Thanks {first}!",
    "Great question, {first}: yes, it does!",
    "We've sent you a DM with the details, {first}.",
    "Good to hear, {first}!",
    "Noted, {first}. Thanks for the feedback!",
    "Yes, {first}! More details on our website.",
)
CLARIFYING_REPLIES = (
    "Thanks for reaching out, {first}! Let me check who can best help with this.{sign}",
    "Hi {first}, happy to help. Let me find the right team for you.{sign}",
    "Thanks {first}! Could you tell us a bit more?{sign}",
)
BUMPS = (
    "hello?? still waiting",
    "any update on this?",
    "day {days} of waiting for a reply...",
    "guess I'll try email then",
    "is anyone reading these?",
)
THANKS = (
    "thanks, will wait for them",
    "ok great, thanks",
    "cheers!",
    "thanks for passing it on",
)

# --- handoffs: `{target}` is the other department's handle, put in by the generator
REFERRALS = (
    "Hi {first}! {target} can help with {topic}, looping them in.{sign}",
    "Good question for our {target_team} team: {target} will pick this up.{sign}",
    "Thanks {first}, {target} handles {topic}. They'll reply here shortly.{sign}",
    "{target} can help with {topic} - over to you!{sign}",
    "Let me bring in {target}, they look after {topic}.{sign}",
)
HANDOFF_REPLIES = {
    SUPPORT: (
        "Hi {first}, {team} here! We've checked {order} and a refund is on its way.{sign}",
        "Thanks for waiting, {first}. {team} here, could you DM us your order number?{sign}",
        "Hi {first}, {team} team here. A replacement is being sent today.{sign}",
    ),
    SALES: (
        "Hi {first}, {team} team here! Happy to send a quote, what's your email?{sign}",
        "Hi {first}! {team} here. Volume pricing starts at 10 units, DM us for details.{sign}",
        "{team} here, {first}: {plan2} is 20% off for existing customers this month.{sign}",
    ),
    MARKETING: (
        "Hi {first}, {team} here! The {campaign} code is fixed now, please try again.",
        "{team} team here: the promo runs until Sunday, {first}!",
    ),
    JOBS: (
        "Hi {first}, {team} here! Your application for {job} is with the hiring manager.",
        "{team} here. We've forwarded your CV, {first}. Expect an email this week.",
    ),
    IDEAS: (
        "Hi {first}, {team} here! We love the idea, it's in our backlog now.",
        "{team} here: you're invited to the {product} beta, check your DMs {first}!",
    ),
    GENERAL: ("Hi {first}, {team} here. Happy to help, please DM us.",),
}

# --- org-started conversations
BROADCASTS = {
    SUPPORT: (
        "Heads up: deliveries to {city} may be delayed this week because of the weather. "
        "We're on it and will keep you posted.",
        "Our chat support now runs 24/7. Reply here if you need anything!",
        "Planned maintenance tonight from 1 to 3 am UTC: the app may be unavailable.",
    ),
    SALES: (
        "The {plan} plan now includes {feature}. Questions? Ask away!",
        "Business customers: order {qty}+ {product}s this month and save {pct}%.",
        "The {product} is back in stock!",
    ),
    MARKETING: (
        "Our {campaign} sale starts today: {pct}% off everything!",
        "Meet the new {product}. Which colour would you pick?",
        "The {campaign} giveaway is live! Reply with your favourite {product} moment.",
    ),
    JOBS: (
        "We're hiring {job}s in {city}! Apply on our careers page.",
        "Join us at the {city} careers fair this Thursday. Our recruiters will be there!",
        "Applications for our graduate programme are open until the end of the month.",
    ),
    IDEAS: (
        "What should we build next for the {product}? Tell us below!",
        "Beta testers wanted: try {feature} before anyone else.",
        "Our lab just shipped {feature} for the {product}. Feedback welcome!",
    ),
    GENERAL: (
        "Thanks to everyone who visited us in {city} this weekend!",
        "We're listening: what can we do better?",
    ),
}
BROADCAST_REPLIES = {
    SUPPORT: (
        "will this affect my order {order}?",
        "finally! last time I waited {hours} hours",
        "does that include weekends?",
    ),
    SALES: (
        "does this apply to existing customers too?",
        "can I combine this with my {plan} discount?",
        "how much would {qty} cost?",
    ),
    MARKETING: (
        "the blue one obviously",
        "does the {pct}% apply online too?",
        "my {product} has been with me for 5 years!",
        "is this in stores in {city} as well?",
    ),
    JOBS: (
        "is the {job} role open to juniors?",
        "will there be a virtual option for the fair?",
        "what's the deadline for {city}?",
    ),
    IDEAS: (
        "{feature} please!",
        "count me in for the beta",
        "dark mode for the {product}!",
    ),
    GENERAL: (
        "faster replies would be nice",
        "keep it up!",
    ),
}

BOT_REPLIES = (
    "This is an automated message: all our systems are running normally. Current reply "
    "time is about {hours} hours.",
    "Automated notice: we've received your message. You don't need to post again.",
    "Service status: no known issues right now. Thanks for your patience.",
)

# --- context values
PRODUCTS = (
    "Acme Kettle",
    "SmartLamp",
    "Roadrunner Trainers",
    "AirBuds",
    "Home Hub",
    "Trail Backpack",
    "Coffee Grinder",
    "Fitness Band",
    "Desk Chair",
    "Robot Vacuum",
    "Rocket Skates",
    "Blender Pro",
)
PLANS = ("Basic", "Plus", "Pro", "Business", "Family", "Premium")
CAMPAIGNS = (
    "Spring Sale",
    "Summer Drop",
    "Back to School",
    "Black Friday",
    "Holiday Gift",
    "Anniversary",
)
JOB_TITLES = (
    "data engineer",
    "store manager",
    "customer advisor",
    "product designer",
    "warehouse associate",
    "marketing intern",
    "software engineer",
    "account executive",
)
# fmt: off
CITIES = (
    "London", "Lagos", "Berlin", "Austin", "Mumbai", "Toronto", "Madrid", "Sydney", "Chicago",
    "Dublin", "Nairobi", "Singapore", "Lyon", "Manchester",
)
# fmt: on
FEATURES = (
    "dark mode",
    "offline mode",
    "a family plan",
    "voice control",
    "a widget",
    "calendar sync",
    "two-factor login",
    "a travel case",
)
EMOJI_TAILS = ("", "", "", "", "", " \U0001f64f", " \U0001f621", " \U0001f60a", " \U0001f440")
