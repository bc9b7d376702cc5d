//! Container names: Docker's validity rule, generated `adjective_surname`
//! names (moby's `namesgenerator`), and the registry that keeps names unique.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use crate::error::{DaemonError, Result};
use crate::ids::{random_u64, truncate_id};

/// The characters a container name may use, as moby's
/// `validContainerNameChars` spells them in its error message.
pub const VALID_CONTAINER_NAME_CHARS: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

/// True when `name` matches `^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`.
pub fn is_valid_name(name: &str) -> bool {
    let n = name.strip_prefix('/').unwrap_or(name).as_bytes();
    n.len() >= 2
        && n[0].is_ascii_alphanumeric()
        && n[1..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks `name` and returns its canonical form with a leading `/`.
/// An invalid name is InvalidParameter with moby's message.
pub fn normalize_name(name: &str) -> Result<String> {
    if !is_valid_name(name) {
        return Err(DaemonError::invalid(format!(
            "Invalid container name ({name}), only {VALID_CONTAINER_NAME_CHARS} are allowed"
        )));
    }
    Ok(if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    })
}

const ADJECTIVES: &[&str] = &[
    "admiring",
    "adoring",
    "affectionate",
    "agitated",
    "amazing",
    "angry",
    "awesome",
    "beautiful",
    "blissful",
    "bold",
    "boring",
    "brave",
    "busy",
    "charming",
    "clever",
    "compassionate",
    "competent",
    "condescending",
    "confident",
    "cool",
    "cranky",
    "crazy",
    "dazzling",
    "determined",
    "distracted",
    "dreamy",
    "eager",
    "ecstatic",
    "elastic",
    "elated",
    "elegant",
    "eloquent",
    "epic",
    "exciting",
    "fervent",
    "festive",
    "flamboyant",
    "focused",
    "friendly",
    "frosty",
    "funny",
    "gallant",
    "gifted",
    "goofy",
    "gracious",
    "great",
    "happy",
    "hardcore",
    "heuristic",
    "hopeful",
    "hungry",
    "infallible",
    "inspiring",
    "intelligent",
    "interesting",
    "jolly",
    "jovial",
    "keen",
    "kind",
    "laughing",
    "loving",
    "lucid",
    "magical",
    "modest",
    "musing",
    "mystifying",
    "naughty",
    "nervous",
    "nice",
    "nifty",
    "nostalgic",
    "objective",
    "optimistic",
    "peaceful",
    "pedantic",
    "pensive",
    "practical",
    "priceless",
    "quirky",
    "quizzical",
    "recursing",
    "relaxed",
    "reverent",
    "romantic",
    "sad",
    "serene",
    "sharp",
    "silly",
    "sleepy",
    "stoic",
    "strange",
    "stupefied",
    "suspicious",
    "sweet",
    "tender",
    "thirsty",
    "trusting",
    "unruffled",
    "upbeat",
    "vibrant",
    "vigilant",
    "vigorous",
    "wizardly",
    "wonderful",
    "xenodochial",
    "youthful",
    "zealous",
    "zen",
];

const SURNAMES: &[&str] = &[
    "agnesi",
    "albattani",
    "allen",
    "almeida",
    "antonelli",
    "archimedes",
    "ardinghelli",
    "aryabhata",
    "austin",
    "babbage",
    "banach",
    "bardeen",
    "bartik",
    "bassi",
    "beaver",
    "bell",
    "benz",
    "bhabha",
    "bhaskara",
    "black",
    "blackburn",
    "blackwell",
    "bohr",
    "booth",
    "borg",
    "bose",
    "bouman",
    "boyd",
    "brahmagupta",
    "brattain",
    "brown",
    "buck",
    "burnell",
    "cannon",
    "carson",
    "cartwright",
    "carver",
    "cerf",
    "chandrasekhar",
    "chaplygin",
    "chatelet",
    "chatterjee",
    "chaum",
    "chebyshev",
    "clarke",
    "cohen",
    "colden",
    "cori",
    "cray",
    "curie",
    "curran",
    "darwin",
    "davinci",
    "dewdney",
    "dhawan",
    "diffie",
    "dijkstra",
    "dirac",
    "driscoll",
    "dubinsky",
    "easley",
    "edison",
    "einstein",
    "elbakyan",
    "elgamal",
    "elion",
    "ellis",
    "engelbart",
    "euclid",
    "euler",
    "faraday",
    "feistel",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "gagarin",
    "galileo",
    "galois",
    "ganguly",
    "gates",
    "gauss",
    "germain",
    "goldberg",
    "goldstine",
    "goldwasser",
    "golick",
    "goodall",
    "gould",
    "greider",
    "grothendieck",
    "haibt",
    "hamilton",
    "haslett",
    "hawking",
    "heisenberg",
    "hellman",
    "hermann",
    "herschel",
    "hertz",
    "heyrovsky",
    "hodgkin",
    "hofstadter",
    "hoover",
    "hopper",
    "hugle",
    "hypatia",
    "ishizaka",
    "jackson",
    "jang",
    "jemison",
    "jennings",
    "jepsen",
    "johnson",
    "joliot",
    "jones",
    "kalam",
    "kapitsa",
    "kare",
    "keldysh",
    "keller",
    "kepler",
    "khayyam",
    "khorana",
    "kilby",
    "kirch",
    "knuth",
    "kowalevski",
    "lalande",
    "lamarr",
    "lamport",
    "leakey",
    "leavitt",
    "lederberg",
    "lehmann",
    "lewin",
    "lichterman",
    "liskov",
    "lovelace",
    "lumiere",
    "mahavira",
    "margulis",
    "matsumoto",
    "maxwell",
    "mayer",
    "mccarthy",
    "mcclintock",
    "mclaren",
    "mclean",
    "mcnulty",
    "meitner",
    "mendel",
    "mendeleev",
    "meninsky",
    "merkle",
    "mestorf",
    "mirzakhani",
    "montalcini",
    "moore",
    "morse",
    "moser",
    "murdock",
    "napier",
    "nash",
    "neumann",
    "newton",
    "nightingale",
    "nobel",
    "noether",
    "northcutt",
    "noyce",
    "panini",
    "pare",
    "pascal",
    "pasteur",
    "payne",
    "perlman",
    "pike",
    "poincare",
    "poitras",
    "proskuriakova",
    "ptolemy",
    "raman",
    "ramanujan",
    "rhodes",
    "ride",
    "ritchie",
    "robinson",
    "roentgen",
    "rosalind",
    "rubin",
    "saha",
    "sammet",
    "sanderson",
    "satoshi",
    "shamir",
    "shannon",
    "shaw",
    "shirley",
    "shockley",
    "shtern",
    "sinoussi",
    "snyder",
    "solomon",
    "spence",
    "stonebraker",
    "sutherland",
    "swanson",
    "swartz",
    "swirles",
    "taussig",
    "tereshkova",
    "tesla",
    "tharp",
    "thompson",
    "torvalds",
    "tu",
    "turing",
    "varahamihira",
    "vaughan",
    "villani",
    "visvesvaraya",
    "volhard",
    "wescoff",
    "wilbur",
    "wiles",
    "williams",
    "williamson",
    "wilson",
    "wing",
    "wozniak",
    "wright",
    "wu",
    "yalow",
    "yonath",
    "zhukovsky",
];

/// A random `adjective_surname` name, as moby's `namesgenerator.GetRandomName`:
/// never `boring_wozniak` ("Steve Wozniak is not boring"), and with a random
/// digit appended when `retry > 0`.
pub fn random_name(retry: u32) -> String {
    loop {
        let r = random_u64();
        let adj = ADJECTIVES[(r % ADJECTIVES.len() as u64) as usize];
        let sur = SURNAMES[((r >> 32) % SURNAMES.len() as u64) as usize];
        let mut name = format!("{adj}_{sur}");
        if name == "boring_wozniak" {
            continue;
        }
        if retry > 0 {
            name.push(char::from(b'0' + (random_u64() % 10) as u8));
        }
        return name;
    }
}

#[derive(Default)]
struct Inner {
    by_name: HashMap<String, String>,
    by_id: HashMap<String, BTreeSet<String>>,
}

/// The set of reserved container names (moby's `registrar`), keyed by the
/// canonical `/name` form. Cheap to share: all methods take `&self`.
#[derive(Default)]
pub struct NameRegistry {
    inner: Mutex<Inner>,
}

impl NameRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Validates `name` and reserves it for container `id`; returns the
    /// canonical `/name`. Reserving a name again for the same ID succeeds.
    /// A name held by another container is Conflict with moby's message.
    pub fn reserve(&self, name: &str, id: &str) -> Result<String> {
        let name = normalize_name(name)?;
        let mut inner = self.lock();
        if let Some(owner) = inner.by_name.get(&name) {
            if owner == id {
                return Ok(name);
            }
            return Err(DaemonError::Conflict(format!(
                "Conflict. The container name \"{name}\" is already in use by container \"{owner}\". \
                 You have to remove (or rename) that container to be able to reuse that name."
            )));
        }
        inner.by_name.insert(name.clone(), id.to_string());
        inner
            .by_id
            .entry(id.to_string())
            .or_default()
            .insert(name.clone());
        Ok(name)
    }

    /// Reserves a generated name for `id`, as moby's `generateNewName`: up to
    /// six random names (the later ones with a digit), then the short ID.
    pub fn reserve_generated(&self, id: &str) -> Result<String> {
        for retry in 0..6 {
            match self.reserve(&random_name(retry), id) {
                Ok(name) => return Ok(name),
                Err(DaemonError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        self.reserve(truncate_id(id), id)
    }

    /// Frees `name` (with or without the leading `/`); a no-op when unknown.
    pub fn release(&self, name: &str) {
        let name = canonical(name);
        let mut inner = self.lock();
        if let Some(id) = inner.by_name.remove(&name) {
            if let Some(set) = inner.by_id.get_mut(&id) {
                set.remove(&name);
                if set.is_empty() {
                    inner.by_id.remove(&id);
                }
            }
        }
    }

    /// Frees every name `id` holds.
    pub fn release_id(&self, id: &str) {
        let mut inner = self.lock();
        if let Some(names) = inner.by_id.remove(id) {
            for n in names {
                inner.by_name.remove(&n);
            }
        }
    }

    /// The ID holding `name` (with or without the leading `/`), if any.
    pub fn lookup(&self, name: &str) -> Option<String> {
        self.lock().by_name.get(&canonical(name)).cloned()
    }

    /// The names `id` holds, sorted.
    pub fn names_of(&self, id: &str) -> Vec<String> {
        self.lock()
            .by_id
            .get(id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

fn canonical(name: &str) -> String {
    if name.starts_with('/') {
        name.to_string()
    } else {
        format!("/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_errdefs::{ErrorKind, HasKind};

    #[test]
    fn name_rules() {
        for ok in ["ab", "/ab", "web-1", "a.b_c-d", "9lives", "A1"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "", "a", "/a", "_ab", "-ab", ".ab", "a b", "a/b", "//ab", "añb", "a:b",
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        let e = normalize_name("-bad").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter);
        assert_eq!(
            e.to_string(),
            "Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        );
        assert_eq!(normalize_name("web").unwrap(), "/web");
        assert_eq!(normalize_name("/web").unwrap(), "/web");
    }

    #[test]
    fn generated_names_are_valid() {
        for retry in 0..3 {
            for _ in 0..50 {
                let n = random_name(retry);
                assert!(is_valid_name(&n), "{n}");
                assert_ne!(n, "boring_wozniak");
                assert_eq!(n.chars().last().unwrap().is_ascii_digit(), retry > 0);
            }
        }
    }

    #[test]
    fn registry_conflicts_and_release() {
        let r = NameRegistry::new();
        assert_eq!(r.reserve("x1", "id1").unwrap(), "/x1");
        assert_eq!(r.reserve("/x1", "id1").unwrap(), "/x1");
        let e = r.reserve("x1", "id2").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
        assert_eq!(
            e.to_string(),
            "Conflict. The container name \"/x1\" is already in use by container \"id1\". \
             You have to remove (or rename) that container to be able to reuse that name."
        );
        assert_eq!(r.lookup("x1").as_deref(), Some("id1"));
        assert_eq!(r.lookup("/x1").as_deref(), Some("id1"));
        r.reserve("alias", "id1").unwrap();
        assert_eq!(r.names_of("id1"), vec!["/alias", "/x1"]);
        r.release("/x1");
        assert_eq!(r.lookup("x1"), None);
        r.reserve("x1", "id2").unwrap();
        r.release_id("id1");
        assert_eq!(r.lookup("alias"), None);
        assert_eq!(r.lookup("x1").as_deref(), Some("id2"));
        let g = r.reserve_generated("0123456789abcdef").unwrap();
        assert!(g.starts_with('/') && is_valid_name(&g));
        assert_eq!(r.lookup(&g).as_deref(), Some("0123456789abcdef"));
    }

    #[test]
    fn registry_is_thread_safe() {
        let r = std::sync::Arc::new(NameRegistry::new());
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let r = r.clone();
                std::thread::spawn(move || r.reserve("shared", &format!("id{i}")).is_ok())
            })
            .collect();
        let wins = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|w| *w)
            .count();
        assert_eq!(wins, 1);
    }
}
