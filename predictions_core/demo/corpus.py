"""The synthetic passage corpus behind the bundled demo data. Nothing here is a real document.

Passages are composed from template sentences in the style of climate-policy documents, with
varied fillers (countries, years, shares, amounts), and spread over ~48 invented documents
across the seven World Bank regions, four corpora, 2005-2024 and translation status. The
random generator has a fixed seed, so the corpus is the same on every run.

The generator knows the truth for the concept "forestry sector" (Q787): in a template,
`[[words]]` marks a mention both synthetic annotators label, `[a[words]]` one only
"annotator_a" labels and `[b[words]]` one only "annotator_b" labels. The markers are removed
from the text and become gold spans. The templates are written so the classifiers are
genuinely imperfect against that gold: forestry named without any label ("sawmills",
"woodlots"), labels in another sense ("data logging", a "log frame"), inflected forms only the
stemmed classifier finds ("logged", "timbers") and capitalised labels the case-sensitive
classifier misses.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

SEED = 20_250_115
REGION_COUNTRIES = {
    "East Asia & Pacific": ["Viet Nam", "Indonesia", "Fiji", "the Philippines", "Mongolia"],
    "Europe & Central Asia": ["Türkiye", "Kazakhstan", "Poland", "Georgia", "Norway"],
    "Latin America & Caribbean": ["Colombia", "Peru", "Jamaica", "Chile", "Costa Rica"],
    "Middle East & North Africa": ["Morocco", "Jordan", "Tunisia", "Egypt", "Oman"],
    "North America": ["Canada", "the United States", "Mexico"],
    "South Asia": ["Bangladesh", "Nepal", "Sri Lanka", "Pakistan", "Bhutan"],
    "Sub-Saharan Africa": ["Côte d’Ivoire", "São Tomé and Príncipe", "Kenya", "Ghana", "Zambia"],
}
# (corpus, share of documents, document titles)
CORPORA = [
    (
        "Laws and Policies",
        22,
        [
            "National Climate Change Policy",
            "Energy Transition Act",
            "Forest Code",
            "Low Emission Development Strategy",
            "Green Growth Strategy",
            "Renewable Energy Law",
        ],
    ),
    (
        "UNFCCC",
        12,
        [
            "Nationally Determined Contribution",
            "Biennial Update Report",
            "Long-Term Low Emission Strategy",
            "National Adaptation Plan",
        ],
    ),
    (
        "Intl. agreements",
        6,
        ["Regional Agreement on Forest Law Enforcement", "Clean Energy Partnership Memorandum"],
    ),
    ("Litigation", 8, ["Climate case against the State", "Environmental licensing appeal"]),
]
# documents 0..2 are these countries, so the passages written for them match their metadata
FIXED_COUNTRIES = ["Côte d’Ivoire", "São Tomé and Príncipe", "Viet Nam"]

TOPIC_TEMPLATES: dict[str, list[str]] = {
    "forestry": [
        "The [[forestry sector]] contributes {pct_small}% of GDP in {country} and employs more "
        "than {thousands} people in rural areas.",
        "Sustainable [[forest management]] plans shall be approved by the {forest_agency} before "
        "any harvesting permit is issued.",
        "Illegal [[logging]] remains the main driver of forest degradation, and patrols in "
        "concession areas will be strengthened.",
        "Exports of [[timber]] and processed wood products will be subject to a legality "
        "verification system by {target_year}.",
        "The [[wood industry]] will be supported to improve processing efficiency and reduce "
        "waste at [[sawmills]].",
        "Research on the [[silviculture]] of native species will guide the choice of species for "
        "new plantations.",
        "A national programme for [[forest fire prevention]] will train {thousands} community "
        "volunteers and install detection towers.",
        "The [[forest industry]] shall source at least {pct}% of its raw material from certified "
        "plantations by {target_year}.",
        "Royalties from [[timber]] concessions will be shared with local communities through a "
        "benefit-sharing fund.",
        "[[Lumber]] production grew by {pct_small}% between {base_year} and {recent_year}, mainly "
        "from eucalyptus and pine plantations.",
        "[[Forestry]] and land use are expected to deliver {pct}% of the mitigation effort in "
        "the updated contribution.",
        "Selective [[logging]] will be limited to {small_n} cubic metres per hectare, with "
        "mandatory replanting of harvested areas.",
        "[[Timber]] harvesting in watershed protection zones is prohibited under this Act.",
        "The [[forestry]] department will publish annual statistics on [[timber]] volumes, "
        "revenues and replanted areas.",
        "Areas [[logged]] before {base_year} will be restored with native species under "
        "community agreements.",
        "Trade in tropical [[timbers]] listed in the annex requires a certificate of legal origin.",
        "[[Silvicultural]] practices such as thinning and enrichment planting will be taught at "
        "the [[forestry]] college.",
        "Tree [a[nurseries]] run by women's groups will supply {thousands} seedlings a year to "
        "[[timber]] growers.",
    ],
    "forestry_implicit": [
        "Community [[woodlots]] will be established in {small_n} districts to supply fuelwood "
        "and building poles.",
        "Licensed [[sawmills]] must keep records of the origin of every log they process.",
        "The [[pulp and paper mills]] in the northern province will be required to source wood "
        "from certified plantations.",
        "[[Charcoal production]] from plantation wood will be regulated through licences and "
        "improved kilns.",
        "Commercial [[tree plantations]] of teak and pine cover {thousands} hectares and supply "
        "most construction wood.",
        "A levy on [[roundwood]] exports will finance seedling nurseries in degraded areas.",
        "[[Forest concessions]] will be allocated through transparent public tenders.",
        "Smallholder [b[agroforestry]] systems combining coffee, cocoa and shade trees will "
        "receive extension support.",
        "Community forest user groups will manage [a[fuelwood and pole harvesting]] under "
        "ten-year operational plans.",
    ],
    "logging_trap": [
        "Continuous emissions monitoring systems shall include data logging of stack "
        "concentrations at intervals of no more than {small_n} minutes.",
        "Operators must retain event logging records from smart meters for at least {small_n} "
        "years.",
        "The registry's logging of complaints and grievances will be reviewed annually by the "
        "ombudsman.",
        "Automatic logging of river levels at {small_n} gauging stations will feed the flood "
        "early warning system.",
        "Progress will be measured against the indicators in the programme's log frame.",
    ],
    "forest_conservation": [
        "Deforestation fell by {pct_small}% after the moratorium on converting primary "
        "[b[forests]] to farmland.",
        "Protected areas cover {pct_small}% of the national territory, and community rangers "
        "patrol them year-round.",
        "Payments for ecosystem services will reward communities that protect "
        "[b[forest watersheds]].",
        "The national REDD+ strategy will reduce emissions from deforestation and forest "
        "degradation through land-use planning.",
        "Mangrove restoration along the coast will protect communities from storm surges.",
        "Indigenous territories with secure land titles show lower rates of forest loss.",
    ],
    "emissions": [
        "{country} commits to reducing greenhouse gas emissions by {pct}% below {base_year} "
        "levels by {target_year}.",
        "Greenhouse gas emissions from the energy sector reached {mt} million tonnes of carbon "
        "dioxide equivalent in {recent_year}.",
        "The national inventory covers carbon dioxide (CO2), methane (CH4), nitrous oxide (N2O) "
        "and fluorinated gases.",
        "Net GHG emissions are projected to peak before {target_year} if the measures in this "
        "plan are implemented.",
        "Emissions from agriculture, [[forestry]] and other land use account for {pct}% of the "
        "national total.",
        "The phase-down of HFCs under the Kigali Amendment will avoid {mt} million tonnes of "
        "CO₂-equivalent by {target_year}.",
        "Reporting entities shall follow the Greenhouse Gas Protocol when disclosing scope 1 "
        "and scope 2 emissions.",
        "Black carbon from diesel generators and open burning also harms air quality in cities.",
        "Facilities emitting more than {kt} thousand tonnes of CO2e per year must report "
        "annually to the {ministry}.",
    ],
    "methane": [
        "Methane emissions from landfills will be cut by capturing gas at all sites serving "
        "more than {thousands} residents.",
        "Enteric fermentation in cattle is the largest source of methane, followed by rice "
        "cultivation and wastewater.",
        "Oil and gas operators shall detect and repair leaks of CH4 every {small_n} months.",
        "{country} joined the Global Methane Pledge in {recent_year} and will reduce methane "
        "emissions by {pct}% by 2030.",
        "Alternate wetting and drying of paddy fields can lower methane emissions without "
        "reducing rice yields.",
    ],
    "carbon_pricing": [
        "A carbon tax of {price} per tonne of CO2 will apply to fossil fuels from {near_year}.",
        "Revenues from the emissions trading system will support low-income households and "
        "energy efficiency.",
        "Free allocation of allowances to energy-intensive industries will be phased out by "
        "{target_year}.",
        "The carbon price will rise by {price} each year until it reaches the level recommended "
        "by the advisory committee.",
        "Offsets from verified [[forest management]] projects may cover up to {pct_small}% of a "
        "company's compliance obligation.",
    ],
    "renewable": [
        "{country} aims to generate {pct}% of its electricity from renewable energy sources by "
        "{target_year}.",
        "Auctions for {gw} GW of solar power and wind power capacity will be held every year.",
        "Rooftop solar PV on public buildings will be financed through a revolving fund.",
        "Renewables already supply {pct_small}% of final energy consumption, mainly from "
        "hydropower and bioenergy.",
        "Exploration licences for geothermal energy will be granted in volcanic areas.",
        "Subsidies for non-renewable energy, including diesel for power generation, will be "
        "phased out by {target_year}.",
        "Grid operators must re-establish priority dispatch for variable renewable power.",
        "Small hydro schemes and off-grid mini-grids will bring clean energy to {thousands} "
        "rural households.",
        "Offshore wind farms will be exempt from import duty on turbines and cables.",
    ],
    "adaptation": [
        "Early warning systems for floods and droughts will cover all districts by {target_year}.",
        "Coastal communities will receive support to move homes away from eroding shorelines.",
        "Damaged roads and bridges must be re-built to higher design standards after each "
        "cyclone season.",
        "The national adaptation plan identifies water, health and agriculture as priority "
        "sectors.",
        "Heat action plans in {small_n} cities will protect outdoor workers and older people "
        "during heatwaves.",
        "Drought-tolerant crop varieties will be distributed to {thousands} smallholder farmers.",
    ],
    "finance": [
        "The Green Climate Fund approved USD {musd} million for a programme led by the {ministry}.",
        "A national climate fund will pool domestic budget allocations and international grants.",
        "Climate finance tracking will be part of the budget classification from {recent_year}.",
        "Green bonds issued by the Treasury raised USD {musd} million for adaptation and clean "
        "transport.",
        "Blended finance facilities will lower the cost of capital for renewable energy projects.",
        "Development partners pledged USD {musd} million to the [[forestry]] investment plan.",
    ],
    "agriculture": [
        "Climate-smart agriculture practices will be scaled up through farmer field schools.",
        "Fertiliser subsidies will be reformed to reduce nitrous oxide emissions from "
        "over-application.",
        "Irrigation schemes will use solar-powered pumps to reduce diesel use.",
        "Herders will be supported to improve pasture management and animal health.",
        "Post-harvest losses will be cut by {pct_small}% through better storage and cold chains.",
    ],
    "transport": [
        "All new buses bought by municipalities shall be electric or hybrid from {near_year}.",
        "Fuel economy standards for light-duty vehicles will be tightened every {small_n} years.",
        "The rail freight corridor will shift {pct_small}% of road freight to rail by "
        "{target_year}.",
        "Charging stations for electric vehicles will be installed along the main highways, "
        "powered where possible by solar energy.",
        "Cycling lanes and pedestrian streets will be prioritised in urban development plans.",
    ],
    "governance": [
        "The {ministry} shall coordinate the implementation of this policy and report to "
        "Parliament every {small_n} years.",
        "A measurement, reporting and verification system will track progress on mitigation "
        "and adaptation actions.",
        "The national climate change council includes representatives of civil society, the "
        "private sector and indigenous peoples.",
        "Subnational governments will prepare local climate action plans aligned with this "
        "strategy.",
        "The greenhouse gas inventory will be updated every two years in line with the enhanced "
        "transparency framework.",
        "Public consultations on the draft strategy received {submissions} written submissions.",
    ],
    "litigation": [
        "The claimants argue that the Government's failure to reduce greenhouse gas emissions "
        "violates their right to a healthy environment.",
        "The Court ordered the State to present, within {small_n} months, a plan to halt illegal "
        "[[logging]] in protected areas.",
        "The petitioners contend that the environmental impact assessment ignored the project's "
        "methane emissions.",
        "The tribunal dismissed the case, finding that the applicants lacked standing.",
        "The judgment requires the energy regulator to consider climate impacts when licensing "
        "coal-fired power plants.",
        "The plaintiffs seek damages for crop losses caused by repeated droughts.",
        "The court found that the licence for the open-pit coal mine failed to account for "
        "downstream emissions.",
        "Counsel for the State submitted that emission targets are matters of policy for "
        "Parliament, not for the courts.",
        "The appeal concerns a permit for clear-cutting [[timber]] in old-growth stands without "
        "consultation of indigenous communities.",
        "The Supreme Court held that the right to life includes protection from the effects of "
        "climate change.",
    ],
}
# how many passages of each topic; litigation documents get litigation passages on top
TOPIC_COUNTS = {
    "forestry": 36,
    "forestry_implicit": 14,
    "logging_trap": 9,
    "forest_conservation": 12,
    "emissions": 48,
    "methane": 28,
    "carbon_pricing": 26,
    "renewable": 46,
    "adaptation": 40,
    "finance": 34,
    "agriculture": 34,
    "transport": 34,
    "governance": 36,
}
LITIGATION_SHARE = 0.5
_MAX_REDRAWS = 20
# written for particular documents: accents and astral emoji before matches, and markup
SPECIAL_PASSAGES = [
    (
        0,
        "In Côte d’Ivoire 🌍, cocoa-driven deforestation and illegal [[logging]] 🌳 have "
        "sharply reduced forest cover, and methane from degraded wetlands is rising.",
    ),
    (
        1,
        "São Tomé and Príncipe 🌞 will install solar power on every public building, cutting "
        "CO₂ emissions from diesel generators.",
    ),
    (
        2,
        "Viet Nam’s rice farmers 🌾🌏 will adopt alternate wetting and drying to cut methane "
        "emissions, while [[timber]] exporters adopt legality checks.",
    ),
    (
        3,
        "Public comment received: <script>alert(1)</script> <img src=x onerror=alert(1)> The "
        "commenter asks how [[timber]] exports, greenhouse gas reporting and renewable energy "
        "targets will be monitored.",
    ),
]
_MARKER = re.compile(r"\[(a|b)?\[(.+?)\]\]")
ANNOTATORS = ("annotator_a", "annotator_b")


@dataclass
class DemoDocument:
    """An invented document: its id and the metadata every passage of it carries."""

    document_id: str
    name: str
    country: str
    region: str
    corpus: str
    published: str
    translated: bool
    next_block: int = 0


@dataclass
class DemoPassage:
    """A passage, the columns of its row in the passages file, and its Q787 truth."""

    row: dict
    topic: str
    # (start, end, annotators) of the forestry mentions, in code points of the text
    forestry_spans: list[tuple[int, int, tuple[str, ...]]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.row['document_id']}.{self.row['text_block.text_block_id']}"

    @property
    def text(self) -> str:
        return self.row["text_block.text"]


def strip_markers(marked: str) -> tuple[str, list[tuple[int, int, tuple[str, ...]]]]:
    """The text without `[[...]]` markers, and the marked spans with who labels them."""
    parts: list[str] = []
    spans = []
    length = position = 0
    for match in _MARKER.finditer(marked):
        before = marked[position : match.start()]
        parts.append(before)
        length += len(before)
        who = ANNOTATORS if match.group(1) is None else (f"annotator_{match.group(1)}",)
        words = match.group(2)
        spans.append((length, length + len(words), who))
        parts.append(words)
        length += len(words)
        position = match.end()
    parts.append(marked[position:])
    return "".join(parts), spans


def _fillers(rng: random.Random, country: str) -> dict[str, str]:
    return {
        "country": country,
        "pct": str(rng.choice([15, 20, 25, 30, 35, 40, 45, 50, 60, 70])),
        "pct_small": str(rng.choice([2, 3, 4, 5, 6, 8, 9, 12])),
        "base_year": str(rng.choice([1990, 2000, 2005, 2010])),
        "target_year": str(rng.choice([2030, 2035, 2040, 2050])),
        "near_year": str(rng.choice([2026, 2027, 2028])),
        "recent_year": str(rng.choice([2019, 2020, 2021, 2022, 2023])),
        "thousands": f"{rng.choice([4, 12, 25, 40, 65, 120]) * 1000:,}",
        "small_n": str(rng.choice([3, 4, 5, 6, 10, 12, 15])),
        "mt": rng.choice(["1.8", "4.5", "12", "27", "48", "115"]),
        "kt": str(rng.choice([10, 25, 50])),
        "gw": rng.choice(["0.5", "1.2", "3", "5"]),
        "musd": str(rng.choice([15, 42, 60, 85, 120, 250])),
        "price": rng.choice(["USD 5", "USD 10", "EUR 25", "USD 40"]),
        "submissions": str(rng.choice([140, 310, 560, 1200])),
        "ministry": rng.choice(
            [
                "Ministry of Environment",
                "Ministry of Energy and Mines",
                "Ministry of Finance",
                "Ministry of Water and Environment",
                "National Climate Change Council",
            ]
        ),
        "forest_agency": rng.choice(["Forest Service", "National Forestry Authority"]),
    }


def _compose(rng: random.Random, topic: str, country: str) -> str:
    templates = TOPIC_TEMPLATES[topic]
    n_sentences = rng.choices([1, 2, 3], weights=[2, 5, 3])[0]
    chosen = rng.sample(templates, k=min(n_sentences, len(templates)))
    return " ".join(template.format_map(_fillers(rng, country)) for template in chosen)


def _documents(rng: random.Random) -> list[DemoDocument]:
    regions = list(REGION_COUNTRIES)
    corpora = [(name, titles) for name, share, titles in CORPORA for _ in range(share)]
    documents: list[DemoDocument] = []
    used_ids: set[str] = set()
    for number, (corpus, titles) in enumerate(corpora):
        if number < len(FIXED_COUNTRIES):
            country = FIXED_COUNTRIES[number]
            region = next(r for r, cs in REGION_COUNTRIES.items() if country in cs)
        else:
            region = regions[number % len(regions)]
            country = rng.choice(REGION_COUNTRIES[region])
        document_id = _document_id(rng, corpus)
        while document_id in used_ids:
            document_id = _document_id(rng, corpus)
        used_ids.add(document_id)
        year = rng.randint(2005, 2024)
        documents.append(
            DemoDocument(
                document_id=document_id,
                name=f"{country}: {rng.choice(titles)} ({year})",
                country=country,
                region=region,
                corpus=corpus,
                published=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z",
                translated=rng.random() < 0.3 or number == 0,
                next_block=rng.randint(1, 40),
            )
        )
    return documents


def _document_id(rng: random.Random, corpus: str) -> str:
    if corpus == "UNFCCC":
        return f"UNFCCC.party.{rng.randint(100, 2500)}.0"
    if corpus == "Intl. agreements":
        return f"CPR.document.i{rng.randint(1, 9999):08d}.n0000"
    if corpus == "Litigation":
        return f"Sabin.document.{rng.randint(10000, 99999)}.{rng.randint(1000, 9999)}"
    kind = rng.choice(["executive", "legislative"])
    return f"CCLW.{kind}.{rng.randint(1000, 11999)}.{rng.randint(1000, 9999)}"


def _passage(document: DemoDocument, marked_text: str, topic: str, rng: random.Random):
    text, spans = strip_markers(marked_text)
    document.next_block += rng.randint(1, 6)
    row = {
        "text_block.text": text,
        "document_id": document.document_id,
        "text_block.text_block_id": f"b{document.next_block}",
        "document_name": document.name,
        "translated": str(document.translated),
        "world_bank_region": document.region,
        "document_metadata.corpus_type_name": document.corpus,
        "document_metadata.publication_ts": document.published,
    }
    return DemoPassage(row=row, topic=topic, forestry_spans=spans)


def build_corpus(seed: int = SEED) -> list[DemoPassage]:
    """The synthetic passages, in document order; the same for the same seed."""
    rng = random.Random(seed)
    documents = _documents(rng)
    schedule = [topic for topic, count in TOPIC_COUNTS.items() for _ in range(count)]
    rng.shuffle(schedule)
    per_document = len(schedule) // len(documents)
    passages: list[DemoPassage] = []
    seen: set[str] = set()
    for number, document in enumerate(documents):
        topics = schedule[number * per_document : (number + 1) * per_document]
        if number == len(documents) - 1:
            topics = schedule[number * per_document :]
        if document.corpus == "Litigation":
            topics = topics + ["litigation"] * round(len(topics) * LITIGATION_SHARE)
            rng.shuffle(topics)
        for topic in topics:
            marked = _compose(rng, topic, document.country)
            for _ in range(_MAX_REDRAWS):  # a repeated passage would read as a copy-paste
                if marked not in seen:
                    break
                marked = _compose(rng, topic, document.country)
            seen.add(marked)
            passages.append(_passage(document, marked, topic, rng))
        for target, marked in SPECIAL_PASSAGES:
            if target == number:
                passages.append(_passage(document, marked, "special", rng))
    return passages
