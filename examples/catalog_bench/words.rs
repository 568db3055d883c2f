//! The word lists the generated catalog and questions are composed from.

#[rustfmt::skip]
pub(crate) const SCHEMAS: &[&str] = &[
    "sales", "finance", "hr", "ops", "crm", "billing", "logistics", "marketing", "support",
    "inventory", "procurement", "analytics", "legal", "payroll", "retail", "wholesale", "web",
    "mobile", "partner", "risk",
];

#[rustfmt::skip]
pub(crate) const ENTITIES: &[&str] = &[
    "customer", "invoice", "shipment", "warehouse", "ledger", "account", "vendor", "supplier",
    "product", "order", "payment", "refund", "employee", "department", "contract", "campaign",
    "lead", "opportunity", "quote", "subscription", "plan", "ticket", "agent", "store",
    "region", "territory", "branch", "carrier", "route", "vehicle", "driver", "parcel",
    "package", "pallet", "bin", "location", "asset", "budget", "forecast", "expense", "receipt",
    "transaction", "transfer", "deposit", "loan", "claim", "policy", "premium", "broker",
    "partner", "reseller", "distributor", "channel", "promotion", "coupon", "discount",
    "voucher", "gift", "loyalty", "member", "visit", "session", "event", "click", "impression",
    "conversion", "survey", "response", "review", "rating", "complaint", "return", "exchange",
    "repair", "warranty", "service", "appointment", "booking", "reservation", "room",
    "property", "tenant", "lease", "unit", "meter", "reading", "batch", "lot", "recipe",
    "ingredient", "material", "component", "assembly", "machine", "shift", "timesheet",
    "project", "task", "milestone", "invoice_line", "journal", "entry", "period", "currency",
    "tax", "fee", "commission", "salary", "bonus", "benefit", "candidate", "applicant",
    "interview", "position", "skill", "course", "license", "device", "sensor", "alert",
    "incident", "outage", "release", "feature", "requisition", "purchase", "catalog",
    "category", "brand", "sku", "stock", "inventory", "adjustment", "count", "cycle", "dock",
    "yard", "trailer", "container", "port", "vessel", "flight",
];

#[rustfmt::skip]
pub(crate) const ATTRIBUTES: &[&str] = &[
    "amount", "status", "date", "code", "type", "name", "description", "quantity", "price",
    "cost", "balance", "rate", "score", "weight", "volume", "duration", "level", "tier",
    "priority", "stage", "source", "reason", "note", "title", "label", "number", "reference",
    "total", "margin", "revenue", "profit", "tax", "fee", "discount", "limit", "capacity",
    "count", "size", "length", "width", "height", "temperature", "latitude", "longitude",
    "city", "country", "state", "zip", "address", "email", "phone", "url", "currency", "unit",
    "version", "method", "mode", "channel", "segment", "grade", "color", "model", "serial",
    "owner", "manager", "approver", "created_at", "updated_at", "closed_at", "due_date",
    "start_date", "end_date", "opened_on", "shipped_at", "paid_at", "is_active", "is_deleted",
    "is_primary", "flag", "ratio", "percent", "estimate", "target", "actual", "variance",
];

#[rustfmt::skip]
pub(crate) const QUALIFIERS: &[&str] = &[
    "gross", "net", "total", "average", "daily", "monthly", "annual", "primary", "secondary",
    "billing", "shipping", "delivery", "return", "expected", "actual", "planned", "last",
    "first", "current", "previous", "original", "adjusted", "base", "list", "unit", "tax",
    "local", "global", "internal", "external", "customer", "vendor", "supplier", "product",
    "order", "payment", "contract", "service", "sales", "purchase", "warehouse", "inventory",
    "regional", "national", "online", "retail", "wholesale", "promo", "loyalty", "member",
    "legacy", "archived", "pending", "approved", "final", "estimated", "forecast", "budget",
    "open", "closed", "default", "preferred", "max", "min", "peak", "minimum", "maximum",
];

#[rustfmt::skip]
pub(crate) const VALUE_WORDS: &[&str] = &[
    "Active", "Pending", "Closed", "Open", "Cancelled", "Completed", "Shipped", "Delivered",
    "Returned", "Refunded", "Approved", "Rejected", "Draft", "Archived", "Gold", "Silver",
    "Bronze", "Platinum", "Basic", "Premium", "Enterprise", "Standard", "Express", "Overnight",
    "Ground", "Air", "Sea", "Rail", "North", "South", "East", "West", "Central", "Northeast",
    "Southwest", "Pacific", "Atlantic", "Mountain", "London", "Paris", "Berlin", "Madrid",
    "Rome", "Tokyo", "Osaka", "Seoul", "Sydney", "Toronto", "Chicago", "Boston", "Denver",
    "Austin", "Seattle", "Dallas", "Miami", "Phoenix", "Atlanta", "Detroit", "Portland", "Red",
    "Blue", "Green", "Yellow", "Black", "White", "Orange", "Purple", "Small", "Medium", "Large",
    "Extra", "Mini", "Jumbo", "Retail", "Wholesale", "Online", "In-store", "Phone", "Mail",
    "Partner", "Direct", "Indirect", "Card", "Cash", "Cheque", "Wire", "PayPal", "Crypto",
    "Voucher", "Gift Card", "Consumer", "Corporate", "Government", "Education", "Healthcare",
    "Finance", "Manufacturing", "Energy", "Telecom", "Media", "Travel", "Hospitality",
    "Automotive", "Agriculture", "Mining", "Construction", "Logistics", "High", "Low",
    "Critical", "Urgent", "Routine", "Weekly", "Monthly", "Quarterly", "Yearly", "Trial",
    "Renewal", "Upgrade", "Downgrade", "Churned", "Prospect", "Qualified", "Unqualified", "Won",
    "Lost", "Domestic", "International", "Inbound", "Outbound", "Electronics", "Garden", "Toys",
    "Grocery", "Apparel", "Furniture", "Sports", "Books", "Beauty", "Pharmacy", "Hardware",
    "Software", "Services", "Spare Parts", "Accessories",
];

#[rustfmt::skip]
pub(crate) const SYNONYMS: &[(&str, &[&str])] = &[
    ("customer", &["client", "buyer", "shopper", "account holder"]),
    ("invoice", &["bill", "statement"]),
    ("shipment", &["consignment", "delivery"]),
    ("warehouse", &["depot", "distribution center", "fulfilment centre"]),
    ("vendor", &["seller", "merchant"]),
    ("supplier", &["provider", "source"]),
    ("product", &["item", "article", "good"]),
    ("order", &["sale order", "purchase order"]),
    ("employee", &["staff", "worker", "personnel"]),
    ("store", &["shop", "outlet", "branch"]),
    ("region", &["area", "territory", "zone"]),
    ("ticket", &["case", "issue"]),
    ("campaign", &["promotion", "initiative"]),
    ("amount", &["value", "sum"]),
    ("price", &["selling price", "list price"]),
    ("revenue", &["sales", "turnover", "income"]),
    ("quantity", &["qty", "units", "volume"]),
    ("status", &["state", "stage"]),
    ("created_at", &["creation date", "created"]),
    ("employee_count", &["headcount"]),
    ("margin", &["markup"]),
    ("cost", &["expense", "spend"]),
    ("vehicle", &["truck", "van"]),
    ("contract", &["agreement"]),
    ("subscription", &["membership"]),
];

#[rustfmt::skip]
pub(crate) const METRIC_NAMES: &[&str] = &[
    "revenue", "profit", "margin", "cost", "volume", "count", "value", "churn", "retention",
    "growth", "backlog", "throughput", "utilization", "conversion", "spend", "yield",
    "occupancy", "attrition", "turnover", "velocity",
];

#[rustfmt::skip]
pub(crate) const UNRELATED: &[&str] = &[
    "banana", "weather", "guitar", "philosophy", "dinosaur", "galaxy", "poetry", "umbrella",
    "volcano", "saxophone", "tornado", "kangaroo", "origami", "lasagna", "meditation",
    "astronaut", "penguin", "violin", "marathon", "bicycle", "chocolate", "hurricane",
    "telescope", "jazz", "pyramid", "mermaid", "wizard", "castle", "rainbow", "glacier",
];

#[rustfmt::skip]
pub(crate) const VALUE_SYNONYMS: &[&str] = &[
    "web", "internet", "ecommerce", "smb", "vip", "gov", "edu", "intl", "hq", "eu", "apac",
    "emea", "latam", "b2b", "b2c", "wip", "tbd", "eol", "oos", "backorder",
];

#[rustfmt::skip]
pub(crate) const SYLLABLES: &[&str] = &[
    "ka", "lo", "ra", "ven", "mir", "zo", "tex", "bri", "cor", "dal", "fen", "gri", "hal",
    "jor", "kel", "lum", "mon", "nor", "pel", "quin", "ros", "sal", "tor", "ul", "vor", "wen",
    "xan", "yel", "zim", "ar", "be", "ci", "do", "el", "fi", "go", "ha", "in", "ju", "ke",
];

#[rustfmt::skip]
pub(crate) const FILLERS: &[&str] = &[
    "show me", "what is the", "total", "top 10", "by", "per", "in 2024", "last month",
    "for each", "average", "how many", "compared to", "in the", "with", "which", "over time",
    "by month", "in q3",
];
