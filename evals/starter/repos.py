"""The starter suite's two repositories at their base: each module holds one bug or gap a case asks to fix."""

from __future__ import annotations

TEST_COMMAND = "python3 -m unittest discover -s tests -t . -v"

TEXTKIT = {
    "README.md": "# textkit\n\nSmall text helpers. Tests: `python3 -m unittest discover -s tests -t .`\n",
    "textkit/__init__.py": '"""Small text helpers."""\n',
    "textkit/slug.py": 'def slugify(text):\n    """A URL slug of `text`."""\n    return text.lower()\n',
    "textkit/words.py": ('def word_count(text):\n    """How many words `text` holds."""\n'
                         '    return len(text.split(" "))\n'),
    "textkit/truncate.py": ('def truncate(text, width):\n    """`text` cut to at most `width` characters."""\n'
                           "    return text[:width]\n"),
    "textkit/palindrome.py": ('def is_palindrome(text):\n    """Whether `text` reads the same backwards."""\n'
                              "    return text == text[::-1]\n"),
    "textkit/titles.py": ('def title_case(text):\n    """`text` as a title."""\n'
                          '    raise NotImplementedError("title_case")\n'),
    "tests/__init__.py": "",
    "tests/test_basics.py": (
        "import unittest\n\nfrom textkit.palindrome import is_palindrome\nfrom textkit.slug import slugify\n"
        "from textkit.truncate import truncate\nfrom textkit.words import word_count\n\n\n"
        "class Basics(unittest.TestCase):\n"
        "    def test_slug_of_one_word(self):\n        self.assertEqual(slugify('Hello'), 'hello')\n\n"
        "    def test_words(self):\n        self.assertEqual(word_count('a b c'), 3)\n\n"
        "    def test_short_text_is_kept(self):\n        self.assertEqual(truncate('abc', 10), 'abc')\n\n"
        "    def test_palindrome(self):\n        self.assertTrue(is_palindrome('level'))\n"),
}

MATHKIT = {
    "README.md": "# mathkit\n\nSmall math helpers. Tests: `python3 -m unittest discover -s tests -t .`\n",
    "mathkit/__init__.py": '"""Small math helpers."""\n',
    "mathkit/stats.py": ('def mean(values):\n    """The arithmetic mean of `values`."""\n'
                         "    return sum(values) / len(values)\n"),
    "mathkit/median.py": ('def median(values):\n    """The median of `values`."""\n'
                          "    return values[len(values) // 2]\n"),
    "mathkit/clamp.py": ('def clamp(x, lo, hi):\n    """`x` held within [lo, hi]."""\n'
                         "    return min(lo, max(x, hi))\n"),
    "mathkit/fizzbuzz.py": (
        'def fizzbuzz(n):\n    """Fizz for multiples of 3, Buzz for 5, FizzBuzz for both, else the number."""\n'
        "    if n % 3 == 0:\n        return 'Fizz'\n    if n % 5 == 0:\n        return 'Buzz'\n"
        "    if n % 15 == 0:\n        return 'FizzBuzz'\n    return str(n)\n"),
    "mathkit/gcd.py": ('def gcd(a, b):\n    """The greatest common divisor of `a` and `b`."""\n'
                       "    while b:\n        a, b = b, a % b\n    return a\n"),
    "tests/__init__.py": "",
    "tests/test_basics.py": (
        "import unittest\n\nfrom mathkit.fizzbuzz import fizzbuzz\nfrom mathkit.gcd import gcd\n"
        "from mathkit.stats import mean\n\n\n"
        "class Basics(unittest.TestCase):\n"
        "    def test_mean(self):\n        self.assertEqual(mean([1, 2, 3]), 2)\n\n"
        "    def test_gcd(self):\n        self.assertEqual(gcd(12, 18), 6)\n\n"
        "    def test_fizz(self):\n        self.assertEqual(fizzbuzz(3), 'Fizz')\n"),
}

REPOS: dict[str, dict[str, str]] = {"textkit": TEXTKIT, "mathkit": MATHKIT}
