"""The site randomizer's own vocabularies.

Written for the generator alone, from what public directories show: nothing here is read by the
crawler, and nothing here is imported from the crawler's tables (spiders/, data/vocab). A word list
that the crawler's authors also wrote would let a test pass on shapes nobody checked.
"""

from __future__ import annotations

# -- people ------------------------------------------------------------------------------------
GIVEN_NAMES = (
    "Abigail", "Adebayo", "Aiko", "Alejandro", "Amara", "Ana Lucía", "Andrzej", "Anjali",
    "Arjun", "Astrid", "Bartholomew", "Beatriz", "Bongani", "Caoimhe", "Carlos", "Chiara",
    "Chinonso", "Christopher", "Dagny", "Darnell", "Deepika", "Dmitri", "Ebony", "Elif",
    "Elizabeth", "Emeka", "Esperanza", "Fatima", "Fernando", "Francesca", "Gabriel", "Giulia",
    "Grace", "Guillermo", "Hadiza", "Hannah", "Haruto", "Hyun-woo", "Ifeoma", "Ingrid",
    "Isabel", "Jamal", "Jean-Luc", "Jennifer", "Jia", "Joaquín", "Jonathan", "Kateřina",
    "Kwame", "Laila", "Lakshmi", "Leilani", "Liam", "Lucía", "Magdalena", "Malik", "Margaret",
    "Mateo", "Mei-Ling", "Michael", "Minh", "Nadia", "Naveen", "Nkechi", "Olamide", "Oluwaseun",
    "Parisa", "Patrick", "Priya", "Rafael", "Rashida", "Rebecca", "Rohan", "Saanvi", "Samuel",
    "Santiago", "Seo-yeon", "Siobhan", "Soo-ah", "Stephen", "Sunita", "Tamar", "Thandiwe",
    "Theodore", "Tomás", "Valentina", "Vikram", "Wei", "Xochitl", "Yasmin", "Yusuf", "Zainab",
    "Zoë",
)
FAMILY_NAMES = (
    "Abernathy", "Adeyemi", "Agarwal", "Alvarez-Ruiz", "Anand", "Bachmann", "Baptiste",
    "Bergström", "Bhattacharya", "Blackwood", "Brennan", "Castellanos", "Chaudhry", "Chen",
    "Ciobanu", "Cruz", "D'Angelo", "Dasgupta", "de la Fuente", "DeWitt", "Dubois", "Eze",
    "Fairweather", "Fitzgerald", "Fonseca", "Gallagher", "García Márquez", "Ghosh", "Goldberg",
    "Gonzaga", "Haddad", "Hashemi", "Hernández", "Hollingsworth", "Ibekwe", "Iyer", "Jablonski",
    "Jovanović", "Kaczmarek", "Kapoor", "Kawamura", "Kim", "Kowalczyk", "Lachance", "Lindqvist",
    "Lopez-Ortiz", "MacLeod", "Mahmoud", "Marchetti", "McAllister", "Mendelsohn", "Moreau",
    "Muthukrishnan", "Nakashima", "Nguyen", "Novak", "Nwosu", "O'Sullivan", "Okafor",
    "Oyelaran", "Papadopoulos", "Park", "Petrov", "Quiñones", "Rahman", "Ramaswamy",
    "Rosenthal", "Sandoval", "Santangelo", "Schreiber", "Shapiro", "Singh", "Sørensen",
    "St. Clair", "Sutherland", "Tanaka", "Thibodeaux", "Torres", "Tran", "Underwood",
    "Valdivia", "van der Meer", "Vasquez", "Venkataraman", "Wainwright", "Whitfield",
    "Wojciechowski", "Yamamoto", "Yilmaz", "Zelenko", "Zhou", "Zimmerman",
)
MIDDLE_INITIALS = "ABCDEFGHJKLMNPRSTVW"

# Degrees that make a physician, and the ones that do not.
PHYSICIAN_DEGREES = ("MD", "MD", "MD", "MD", "DO", "DO", "MBBS", "MBChB")
PHYSICIAN_EXTRAS = ("PhD", "MPH", "MS", "MBA", "MSc", "MHA", "FACS", "FACC", "FACP", "FAAP",
                    "FACOG", "FAAFP", "FACE", "FRCPC", "FASN", "FCCP")
APP_DEGREES = (("NP",), ("APRN", "FNP-BC"), ("PA-C",), ("CNM",), ("DNP", "APRN"), ("PA-C", "MPAS"))
RESEARCHER_DEGREES = (("PhD",), ("PhD", "MPH"), ("ScD",), ("PhD", "MS"), ("DPhil",))
STAFF_DEGREES = ((), ("MBA",), ("MHA",), ("CPA",), ("JD",), ("MBA", "CPA"), ("MS",))
# How a site writes a degree: plain, or with periods (M.D.).
DOTTED = {"MD": "M.D.", "DO": "D.O.", "PhD": "Ph.D.", "MPH": "M.P.H.", "MS": "M.S.",
          "MBA": "M.B.A.", "NP": "N.P.", "MBBS": "M.B.B.S.", "ScD": "Sc.D."}

# Specialty labels as sites write them, grouped by what they mean; the first label names the
# group, a schema.org MedicalSpecialty member follows where one exists.
SPECIALTIES = (
    (("Cardiology", "Cardiovascular Disease", "Heart & Vascular", "Cardiologist"),
     "Cardiovascular"),
    (("Dermatology", "Dermatologist", "Skin Care & Dermatology"), "Dermatology"),
    (("Family Medicine", "Family Practice", "Primary Care - Family Medicine"), "PrimaryCare"),
    (("Internal Medicine", "General Internal Medicine", "Internist"), None),
    (("Pediatrics", "General Pediatrics", "Children's Health", "Pediatrician"), "Pediatric"),
    (("Obstetrics & Gynecology", "OB/GYN", "Women's Health", "Obstetrics and Gynecology"),
     "Obstetric"),
    (("Neurology", "Neurologist", "Neurosciences"), "Neurologic"),
    (("Orthopaedic Surgery", "Orthopedics", "Sports Medicine & Orthopaedics"),
     "Musculoskeletal"),
    (("Gastroenterology", "Digestive Health", "GI & Hepatology"), "Gastroenterologic"),
    (("Oncology", "Medical Oncology", "Hematology/Oncology", "Cancer Care"), "Oncologic"),
    (("Psychiatry", "Behavioral Health", "Psychiatrist"), "Psychiatric"),
    (("Urology", "Urologist", "Urologic Surgery"), "Urologic"),
    (("Anesthesiology", "Anesthesia", "Pain Medicine & Anesthesia"), "Anesthesia"),
    (("Emergency Medicine", "Emergency Department", "Urgent & Emergency Care"), "Emergency"),
    (("Endocrinology", "Diabetes & Endocrinology", "Endocrinologist"), "Endocrine"),
    (("Pulmonology", "Pulmonary & Critical Care", "Lung Health"), "Pulmonary"),
    (("Nephrology", "Kidney Care", "Nephrologist"), "Renal"),
    (("Rheumatology", "Arthritis & Rheumatology"), "Rheumatologic"),
    (("Ophthalmology", "Eye Care", "Ophthalmologist"), None),
    (("Otolaryngology", "ENT", "Ear, Nose & Throat"), "Otolaryngologic"),
    (("General Surgery", "Surgery", "Surgeon"), "Surgical"),
    (("Radiology", "Diagnostic Radiology", "Imaging"), "Radiography"),
    (("Geriatrics", "Geriatric Medicine", "Senior Health"), "Geriatric"),
    (("Infectious Disease", "Infectious Diseases", "ID & Travel Medicine"), "Infectious"),
    (("Plastic Surgery", "Plastic & Reconstructive Surgery"), "PlasticSurgery"),
    (("Pathology", "Anatomic & Clinical Pathology"), "Pathology"),
)
RESEARCH_FIELDS = ("Biochemistry", "Molecular Genetics", "Epidemiology", "Biostatistics",
                   "Cell Biology", "Neuroscience", "Pharmacology", "Immunology",
                   "Microbiology", "Bioinformatics", "Health Policy", "Physiology")
RESEARCH_TOPICS = ("protein folding", "T-cell signalling", "cohort studies of cardiovascular risk",
                   "Bayesian methods for trials", "synaptic plasticity", "antibiotic resistance",
                   "single-cell sequencing", "health-care costs", "circadian rhythms",
                   "drug metabolism", "tumour microenvironment")
ACADEMIC_RANKS = ("Professor", "Associate Professor", "Assistant Professor", "Instructor",
                  "Clinical Associate Professor", "Research Professor", "Adjunct Professor")
APP_TITLES = ("Nurse Practitioner", "Physician Assistant", "Certified Nurse Midwife",
              "Family Nurse Practitioner", "Advanced Practice Provider")
STAFF_TITLES = ("Director of Marketing", "Chief Financial Officer", "Vice President, Human "
                "Resources", "Chief Executive Officer", "Director of Communications",
                "Practice Manager", "Chief Operating Officer", "Director of Patient Experience",
                "General Counsel", "Manager, Community Relations", "Foundation President")

SCHOOLS = (
    "University of Westbrook School of Medicine", "Carrow College of Medicine",
    "Halvorsen University Medical School", "Pinecrest School of Osteopathic Medicine",
    "Medical College of the Tidewater", "Universidad Autónoma de Valdemora, Facultad de Medicina",
    "All Saints Medical College, Bangalore", "University of Ebonyi Faculty of Medicine",
    "Redmarsh University School of Medicine", "Kingsbridge College of Osteopathic Medicine",
    "Lakehurst University Faculty of Medicine", "St. Aldric's Hospital Medical School",
)
TRAINING_HOSPITALS = (
    "Westbrook Memorial Hospital", "Carrow University Medical Center", "Harborview General",
    "Mount Aldous Hospital", "Riverside Children's Hospital", "Tidewater Regional Medical Center",
    "St. Brigid Health System", "Eastgate University Hospitals",
)
BOARDS = {
    "Cardiology": "American Board of Internal Medicine - Cardiovascular Disease",
    "Dermatology": "American Board of Dermatology",
    "Family Medicine": "American Board of Family Medicine",
    "Internal Medicine": "American Board of Internal Medicine",
    "Pediatrics": "American Board of Pediatrics",
    "Obstetrics & Gynecology": "American Board of Obstetrics and Gynecology",
    "Neurology": "American Board of Psychiatry and Neurology - Neurology",
    "Psychiatry": "American Board of Psychiatry and Neurology - Psychiatry",
    "Orthopaedic Surgery": "American Board of Orthopaedic Surgery",
    "Urology": "American Board of Urology",
    "Anesthesiology": "American Board of Anesthesiology",
    "Emergency Medicine": "American Board of Emergency Medicine",
    "Ophthalmology": "American Board of Ophthalmology",
    "Otolaryngology": "American Board of Otolaryngology - Head and Neck Surgery",
    "General Surgery": "American Board of Surgery",
    "Radiology": "American Board of Radiology",
    "Pathology": "American Board of Pathology",
    "Plastic Surgery": "American Board of Plastic Surgery",
}
LANGUAGES = ("English", "Spanish", "Mandarin", "Hindi", "Arabic", "Vietnamese", "Tagalog",
             "French", "Korean", "Russian", "Yoruba", "Polish", "Portuguese", "ASL")

# -- places --------------------------------------------------------------------------------------
CITIES = (("Fairhaven", "MA", "027"), ("Cedar Bluff", "IA", "506"), ("Port Alder", "WA", "983"),
          ("Millbrook", "NY", "125"), ("San Lorenzo", "NM", "870"), ("Harlow", "KY", "405"),
          ("Oak Ridge Park", "IL", "604"), ("Bellmont", "TX", "761"), ("Greyhaven", "OR", "974"),
          ("Lake Winsome", "MN", "553"), ("Savoy Springs", "GA", "303"))
STREETS = ("Main Street", "Medical Center Drive", "Elm Avenue", "Harbor Boulevard", "Route 9",
           "University Parkway", "Wellness Way", "Kingsley Road", "Commerce Court",
           "Riverside Drive", "Pine Hollow Lane")
CLINIC_WORDS = ("Medical Pavilion", "Health Center", "Specialty Clinic", "Medical Office "
                "Building", "Family Care", "Outpatient Center", "Medical Group", "Clinic")
ORG_FIRST = ("Northfield", "Bayside", "Cedar Valley", "St. Ambrose", "Lakeshore", "Mercybrook",
             "Evergreen", "Three Rivers", "Summit", "Holy Cross", "Prairie", "Tidewater",
             "Harmony", "Blue Ridge", "Crescent City", "Hollis")
ORG_KINDS = {
    "hospital": ("Medical Center", "Hospital", "Health", "Health System", "Regional Hospital"),
    "faculty": ("University School of Medicine", "College of Medicine",
                "University Health Sciences", "Medical School"),
    "group": ("Medical Group", "Physicians", "Clinic", "Specialty Associates", "Care Partners"),
    "plan": ("Health Plan", "Care Network", "Health Partners"),
}

# -- URL words -----------------------------------------------------------------------------------
# Folder words a directory lives under, including other languages' "our doctors" / "directory".
DIRECTORY_WORDS = (
    "doctors", "physicians", "providers", "clinicians", "care-team", "specialists", "our-team",
    "experts", "staff-directory", "medical-staff", "find-care", "profiles", "people", "faculty",
    "team", "our-doctors", "our-providers", "find-a-doctor", "find-a-physician", "directory",
    "physician-directory", "provider-directory", "meet-our-team", "practitioners", "clinical-staff",
    "medicos", "nuestros-medicos", "annuaire", "medecins", "aerzte", "unsere-aerzte", "artsen",
    "medici", "equipe", "staff", "docs", "practitioner-finder", "who-we-are", "consultants",
)
PROFILE_WORDS = ("profile", "bio", "doctor", "physician", "provider", "detail", "details",
                 "person", "member", "view", "showprofile", "ProviderDetail", "expert",
                 "staff-member", "clinician", "medico", "arzt")
QUERY_ID_KEYS = ("id", "providerId", "doc", "physician", "pid", "uid", "DoctorID", "profile",
                 "personId", "p", "ID", "npi_ref", "key")
SECTION_FOLDERS = ("about", "care", "patients", "medical", "our-services", "en", "health",
                   "content", "pages", "site")
PAGE_PARAMS_1 = ("page", "p", "pg", "pageNumber", "PageNum", "pagina", "seite")  # 1-based
OFFSET_PARAMS = ("start", "offset", "from", "skip", "first")  # 0-based offsets
LETTER_PARAMS = ("letter", "alpha", "lastName", "initial", "l", "az")
DEPT_PARAMS = ("dept", "department", "specialty", "service", "cat")
PAGE_FOLDERS = ("page", "p", "pages", "seite")
LISTING_LEAVES = ("", "index.html", "default.aspx", "index.php", "index.cfm", "search.jsp",
                  "list.htm", "results.aspx", "directory.php", "browse.cfm")

# -- words on pages ------------------------------------------------------------------------------
DIRECTORY_LINK_TEXTS = (
    "Find a Doctor", "Our Physicians", "Find a Provider", "Meet our team", "Faculty directory",
    "Search doctors", "Find a Physician", "Our Doctors", "Provider Directory", "Find Care",
    "Meet Our Providers", "Our Specialists", "Physician Finder", "Doctors & Clinicians",
    "Browse our experts", "Our Care Team", "Find an Expert", "Medical Staff", "Our People",
    "Faculty & Staff", "Clinician Search", "Choose a Doctor", "Nuestros médicos",
)
NAV_DISTRACTIONS = ("Find a Location", "Find a Job", "Careers", "Pay Your Bill", "Patient Portal",
                    "Contact Us", "Give Now", "Classes & Events", "Price Transparency",
                    "Visitor Information", "Find a Clinical Trial", "Locations & Directions",
                    "Request an Appointment", "Billing & Insurance", "Volunteer")
NEXT_TEXTS = ("Next", "Next »", "Next ›", "›", "»", "Next page", "Next Page >", "More",
              "Load more", "Show more doctors", ">", "Older", "Siguiente", "Suivant", "→")
PREV_TEXTS = ("Previous", "« Prev", "‹", "«", "Back", "<", "Anterior", "←")
PROFILE_LINK_TEXTS = ("View profile", "Read bio", "Learn more", "See full profile", "Details",
                      "More about this provider", "View Bio", "Profile »")
BOOKING_TEXTS = ("Book online", "Request appointment", "Schedule a visit", "Call to book")

# Section labels of a profile page, per field, as sites word them.
LABELS = {
    "specialty": ("Specialty", "Specialties", "Areas of Expertise", "Clinical Interests",
                  "Practice Area", "Services", "Clinical Focus", "Special Interests",
                  "Expertise", "Department", "Field"),
    "location": ("Location", "Locations", "Office", "Practice Locations", "Where I See Patients",
                 "Clinic", "Address", "Office Location", "Practice Address", "Visit me at"),
    "phone": ("Phone", "Tel", "Telephone", "Appointments", "Call", "Office Phone",
              "To schedule"),
    "education": ("Education", "Education & Training", "Training", "Medical Education",
                  "Background", "Qualifications", "Degrees", "Schooling"),
    "school": ("Medical School", "Medical Degree", "Degree", "School of Medicine", "MD"),
    "residency": ("Residency", "Residency Training", "Graduate Medical Education",
                  "Post-graduate Training"),
    "fellowship": ("Fellowship", "Fellowships", "Subspecialty Training"),
    "board": ("Board Certification", "Board Certifications", "Certifications",
              "Board Certified In", "Certification", "Boards"),
    "languages": ("Languages", "Languages Spoken", "Speaks", "Language"),
    "title": ("Title", "Position", "Appointment", "Role", "Academic Rank"),
    "credentials": ("Credentials", "Degree(s)", "Professional Designations",
                    "Credentials & Designations", "Post-nominals"),
    "research": ("Research Interests", "Research", "Research Focus", "Areas of Research"),
    "accepting": ("New Patients", "Accepting New Patients", "Availability"),
}
SOFT_404_TEXTS = (
    ("Page not found", "We couldn't find the page you were looking for."),
    ("Oops!", "This provider is no longer with our practice."),
    ("Provider not found", "The profile you requested is unavailable."),
    ("Sorry", "That page has moved or no longer exists."),
    ("404", "Nothing here. Try searching our directory."),
)
TOPICS = ("heart health", "flu season", "sleep", "healthy eating", "knee pain", "screenings",
          "mental health", "allergies", "sun safety", "new parents")

# -- client-rendered sites (an app shell, a script bundle, a data endpoint) ---------------------
# Where the app mounts: (attribute, value) of the shell's one element.
MOUNT_POINTS = (("id", "root"), ("id", "app"), ("id", "__next"), ("id", "main-app"),
                ("id", "portal"), ("id", "___gatsby"), ("id", "spa-root"), ("class", "app-root"),
                ("class", "js-app"), ("id", "provider-finder"), ("id", "svelte"),
                ("class", "application"))
# Script bundles: {h8}/{h16} hex digests, {n} a build number.
BUNDLE_PATHS = ("/static/js/main.{h8}.js", "/assets/index-{h8}.js", "/assets/app-{h8}.js",
                "/_next/static/chunks/pages/_app-{h16}.js", "/dist/bundle.js?v={n}",
                "/js/app.{h8}.min.js", "/build/{h8}/client.js", "/_app/immutable/start-{h8}.js")
STYLESHEET_PATHS = ("/static/css/main.{h8}.css", "/assets/index-{h8}.css",
                    "/dist/styles.css?v={n}", "/css/app.{h8}.css")
NOSCRIPT_TEXTS = (
    "You need to enable JavaScript to run this app.",
    "Please enable JavaScript to use our provider directory.",
    "This site requires JavaScript. Please turn it on in your browser's settings.",
    "We're sorry but this site doesn't work properly without JavaScript enabled.",
    "JavaScript is disabled in your browser. Enable it to find a doctor.",
    "Para usar este sitio, active JavaScript en su navegador.",
)
LOADING_TEXTS = ("", "", "Loading…", "Loading...", "Please wait")
# The data endpoint a page's content comes from, by shape:
#   ("query", path, parameter): path?parameter=<the route, URL-encoded>
#   ("file", prefix, suffix): prefix + the route's path (+ "index" after a final "/") + suffix,
#                             with the route's own query string
#   ("base64", prefix, ""): prefix + the route in unpadded URL-safe base64
DATA_ENDPOINTS = (
    ("query", "/api/content", "path"), ("query", "/api/v1/pages", "route"),
    ("query", "/wp-json/site/v1/page", "url"), ("query", "/content-api/v2/route", "slug"),
    ("query", "/_api/page-data", "uri"), ("file", "/_data", ".json"),
    ("file", "/page-data", "/page-data.json"), ("file", "/_next/data/build", ".json"),
    ("base64", "/api/pages/", ""), ("base64", "/bff/v3/page/", ""),
)
# Where a payload keeps the page's title, body HTML and head extras (key paths).
PAYLOAD_KEYS = (
    {"title": ("title",), "body": ("html",), "head": ("head",)},
    {"title": ("page", "title"), "body": ("page", "content"), "head": ("page", "meta")},
    {"title": ("data", "seo", "title"), "body": ("data", "body"), "head": ("data", "headTags")},
    {"title": ("result", "pageContext", "title"), "body": ("result", "pageContext", "html"),
     "head": ("result", "pageContext", "headHtml")},
    {"title": ("meta", "pageTitle"), "body": ("content", "rendered"), "head": ("meta", "tags")},
    {"title": ("props", "pageProps", "title"), "body": ("props", "pageProps", "markup"),
     "head": ("props", "pageProps", "headMarkup")},
)
REDIRECT_KEYS = ("redirect", "location", "redirectTo", "movedTo")
