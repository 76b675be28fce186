"""Word lists shared by the synthetic generators (all invented for this package)."""

NAMES = (
    "Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lena", "Milo", "Nora",
    "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Vic", "Wren", "Xena", "Yuri", "Zoe", "Abel", "Bea",
    "Cyrus", "Dora", "Eli", "Faye", "Gil", "Hugo", "Iris", "Joel", "Kira", "Leo", "Mara", "Nico",
)
# Pronoun per name, so stories and problems stay grammatical.
PRONOUNS = {name: ("she" if i % 2 else "he") for i, name in enumerate(NAMES)}

COUNTABLE_OBJECTS = (
    "apples", "pears", "marbles", "stickers", "books", "pencils", "coins", "shells", "stamps", "cookies",
    "balloons", "cards", "buttons", "eggs", "plums", "beads", "kites", "boats", "cups", "rocks",
)

CITIES = (
    "Dover", "Leeds", "Oslo", "Lima", "Cairo", "Perth", "Quito", "Riga", "Sofia", "Turin", "Bern", "Kiev",
    "Nice", "Pune", "Hilo", "Yuma",
)
PETS = ("cat", "dog", "goat", "parrot", "rabbit", "horse", "turtle", "hamster", "duck", "lizard", "pony", "owl")
JOBS = (
    "baker", "farmer", "pilot", "doctor", "painter", "teacher", "sailor", "singer", "tailor", "miner",
    "nurse", "judge",
)
COLORS = ("red", "blue", "green", "yellow", "purple", "orange", "black", "white", "pink", "gray", "brown", "gold")
FOODS = ("bread", "rice", "soup", "cheese", "honey", "figs", "beans", "fish", "corn", "cake", "nuts", "jam")

ANIMALS = ("fox", "bear", "mouse", "frog", "deer", "wolf", "hen", "crab", "bee", "seal", "robin", "snail")
ADJECTIVES = ("little", "brave", "shy", "happy", "sleepy", "clever", "kind", "tiny", "old", "quick", "quiet", "proud")
PLACES = ("forest", "river", "hill", "garden", "village", "lake", "meadow", "cave", "beach", "farm", "bridge", "pond")
THINGS = ("hat", "key", "ball", "map", "bell", "lamp", "box", "drum", "ring", "kite", "rope", "boat")
FEELINGS = ("happy", "sad", "glad", "scared", "proud", "tired", "calm", "surprised")
