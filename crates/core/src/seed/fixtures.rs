//! The text of the demonstration data: names, offers, questions and replies.

pub(super) const MANAGER_FIRST: [&str; 3] = ["Maria", "Oleg", "Priya"];
pub(super) const MANAGER_LAST: [&str; 3] = ["Keller", "Ivanov", "Nair"];
pub(super) const AFFILIATE_FIRST: [&str; 12] =
    ["Lena", "Tom", "Aisha", "Carlos", "Mei", "Jonas", "Sofia", "Ravi", "Emma", "Diego", "Yuki", "Omar"];
pub(super) const AFFILIATE_LAST: [&str; 10] =
    ["Media", "Traffic Co", "Ads", "Digital", "Performance", "Leads", "Partners", "Growth", "Mobile", "Network"];

pub(super) const OFFER_TITLES: [&str; 15] = [
    "Casino Royale DE",
    "VPN Shield Global",
    "Crypto Wallet Pro",
    "Dating Spark US",
    "Fitness Coach App",
    "Nutra Slim EU",
    "Sweepstakes iPhone",
    "Mobile Game Quest",
    "Insurance Quote UK",
    "Loan Finder PL",
    "E-commerce Fashion",
    "Streaming Plus",
    "Antivirus Total",
    "Forex Academy",
    "Travel Deals",
];
pub(super) const SMARTLINK_NAMES: [&str; 5] =
    ["Mainstream Mix", "Dating Worldwide", "Nutra Tier 1", "Sweeps Mobile", "Gaming Global"];

/// (type, title, description)
pub(super) const QUESTIONS: [(&str, &str, &str); 16] = [
    (
        "general",
        "How do I set up postbacks?",
        "Hi! I want to send conversions back to my tracker. Where do I put the postback URL and which macros are available?",
    ),
    (
        "general",
        "Can I run traffic from Telegram?",
        "I have a few Telegram channels with 200k subscribers in total. Is this traffic source allowed for your offers?",
    ),
    (
        "general",
        "Need a personal manager contact",
        "Hello, who is my personal manager and how can I reach them outside the panel?",
    ),
    (
        "general",
        "Question about caps",
        "What happens when an offer reaches its daily cap in the middle of the day? Are extra conversions paid?",
    ),
    (
        "financial",
        "Payout for last month is missing",
        "My balance shows 0 for the previous month although the statistics show 143 approved conversions. Please check.",
    ),
    (
        "financial",
        "Change payment method to USDT",
        "Please switch my payment method from wire transfer to USDT (TRC20). Wallet address in my profile.",
    ),
    ("financial", "Invoice details", "Which company details should I put on my invoice for this month's payout?"),
    ("financial", "Minimum payout threshold", "What is the minimum payout amount and how often are payments sent?"),
    (
        "technical",
        "Tracking link returns 404",
        "The tracking link for offer 12 returns a 404 page since this morning. Clicks still show in statistics.",
    ),
    (
        "technical",
        "Conversions not showing",
        "I see clicks but no conversions for two days; my tracker recorded 37 sales. Is the pixel working?",
    ),
    (
        "technical",
        "API returns 401",
        "Calls to the API with my key return 401 since I regenerated the key. What am I doing wrong?",
    ),
    (
        "technical",
        "Sub-IDs are not passed",
        "sub1 and sub2 are empty in the conversions report although I pass them in the link.",
    ),
    (
        "other",
        "Feedback about the new panel",
        "The new statistics page is great, but exporting to CSV would help a lot.",
    ),
    ("other", "Partnership proposal", "We run a large coupon site and would like to discuss an exclusive deal."),
    ("other", "Update my company name", "Our company was renamed; please update it in my account."),
    ("other", "Holiday schedule", "Will support be available during the holidays?"),
];

pub(super) const REQUEST_COMMENTS: [&str; 5] = [
    "I run push traffic in Tier 1 countries, about 50k clicks a day.",
    "SEO site with 30k monthly visitors in this vertical. Would love to test it.",
    "Facebook and native ads; we already run similar offers with good CR.",
    "Email list of 120k opted-in subscribers in the target GEO.",
    "Mobile in-app traffic, mostly Android, 100k impressions a day.",
];

pub(super) const MANAGER_REPLIES: [&str; 8] = [
    "Hi {name}, thanks for reaching out! I've checked and everything looks fine on our side now.",
    "Hello {name}, we are looking into it and will come back to you within 24 hours.",
    "Hi {name}, could you send a screenshot and the click ID so I can investigate?",
    "Done! Please check again and let me know if the issue persists.\n\nBest regards,\n{manager}",
    "Hi {name}, the payment has been sent today; it should arrive within 3 business days.",
    "Thanks {name}, I've forwarded this to our tech team.",
    "Hello {name}, yes, this traffic source is allowed as long as there is no incentivised traffic.",
    "Hi {name}, please use the macros {clickid} and {sub1} in your postback URL.",
];

pub(super) const AFFILIATE_REPLIES: [&str; 6] = [
    "Thanks! It works now.",
    "Still the same problem, see the attached screenshot please.",
    "Any news on this?",
    "Great, thank you for the quick answer!",
    "Here is the click ID: 5f2b9c1e8a. It happened around 14:00 UTC.",
    "Could you please also check my other offers?",
];

pub(super) const INTERNAL_NOTES: [&str; 3] = [
    "Checked the logs: the postback was fired with a wrong click ID.",
    "Affiliate had fraud flags last month, be careful with approvals.",
    "Escalated to finance, waiting for their answer.",
];

pub(super) const REPLY_TEMPLATES: [(&str, &str); 10] = [
    ("Greeting", "Hi {affiliate.name},\n\nthank you for contacting us. "),
    (
        "Looking into it",
        "Hi {affiliate.name},\n\nwe are looking into ticket #{ticket.id} and will get back to you within 24 hours.\n\n{manager.name}",
    ),
    (
        "Offer approved",
        "Hi {affiliate.name},\n\nyou now have access to {offer.title} ({offer.id}). Good luck with the campaign!\n\n{manager.name}",
    ),
    (
        "Offer rejected",
        "Hi {affiliate.name},\n\nunfortunately we cannot give you access to {offer.title} right now: the advertiser limits the traffic sources.\n\n{manager.name}",
    ),
    (
        "Need more details",
        "Hi {affiliate.name},\n\ncould you please send us the click IDs, the time (UTC) and a screenshot?\n\n{manager.name}",
    ),
    (
        "Payment sent",
        "Hi {affiliate.name},\n\nyour payment has been sent. It usually arrives within 3 business days.\n\n{manager.name}",
    ),
    (
        "Postback setup",
        "Hi {affiliate.name},\n\nput your postback URL in Settings → Postbacks and use the macros {clickid} and {sub1}.\n\n{manager.name}",
    ),
    (
        "Forwarded to tech",
        "Hi {affiliate.name},\n\nI've forwarded \"{ticket.title}\" to our technical team.\n\n{manager.name}",
    ),
    (
        "Closing",
        "Hi {affiliate.name},\n\nwe are closing this ticket. Feel free to open a new one if you need anything else.\n\n{manager.name}",
    ),
    (
        "Traffic source allowed",
        "Hi {affiliate.name},\n\nthis traffic source is allowed as long as it is not incentivised.\n\n{manager.name}",
    ),
];
