"""The starter suite's ten cases: the task the agent sees, the reference fix and the hidden tests of each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StarterCase:
    """One case: `fixed` replaces the file at `path` (the gold patch); `tests` is the hidden test file."""

    id: str
    repo: str  # a key of REPOS
    task: str
    path: str
    fixed: str
    tests: str
    tags: tuple[str, ...] = ()

    @property
    def test_path(self) -> str:
        return f"tests/test_{self.id.replace('-', '_')}.py"


def _tests(imports: str, body: str) -> str:
    return f"import unittest\n\n{imports}\n\n\nclass Hidden(unittest.TestCase):\n{body}"


CASES: tuple[StarterCase, ...] = (
    StarterCase(
        "slugify-separators", "textkit",
        "slugify() in textkit/slug.py only lowercases. Make it turn every run of characters that are not letters "
        "or digits into a single '-', with no '-' at either end ('  Hello, World!  ' -> 'hello-world').",
        "textkit/slug.py",
        'import re\n\n\ndef slugify(text):\n    """A URL slug of `text`."""\n'
        "    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')\n",
        _tests("from textkit.slug import slugify",
               "    def test_separators(self):\n"
               "        self.assertEqual(slugify('  Hello, World!  '), 'hello-world')\n\n"
               "    def test_digits_kept(self):\n        self.assertEqual(slugify('Top 10 tips'), 'top-10-tips')\n"),
        ("bug",)),
    StarterCase(
        "word-count-whitespace", "textkit",
        "word_count() in textkit/words.py miscounts text with several spaces, tabs or newlines between words, "
        "and says an empty string has one word. Count words separated by any whitespace.",
        "textkit/words.py",
        'def word_count(text):\n    """How many words `text` holds."""\n    return len(text.split())\n',
        _tests("from textkit.words import word_count",
               "    def test_runs_of_whitespace(self):\n        self.assertEqual(word_count('a  b\\t c\\n'), 3)\n\n"
               "    def test_empty(self):\n        self.assertEqual(word_count(''), 0)\n"),
        ("bug",)),
    StarterCase(
        "truncate-ellipsis", "textkit",
        "truncate(text, width) in textkit/truncate.py cuts text silently. When it cuts, the result must end with "
        "'…' and still be at most `width` characters long; text that fits is returned as it is.",
        "textkit/truncate.py",
        'def truncate(text, width):\n    """`text` cut to at most `width` characters."""\n'
        "    if len(text) <= width:\n        return text\n    return text[:max(width - 1, 0)] + '…'\n",
        _tests("from textkit.truncate import truncate",
               "    def test_cut_ends_with_ellipsis(self):\n        self.assertEqual(truncate('abcdef', 4), 'abc…')\n\n"
               "    def test_fits(self):\n        self.assertEqual(truncate('abcd', 4), 'abcd')\n"),
        ("feature",)),
    StarterCase(
        "palindrome-normalised", "textkit",
        "is_palindrome() in textkit/palindrome.py should ignore case, spaces and punctuation: "
        "'A man, a plan, a canal: Panama' is a palindrome.",
        "textkit/palindrome.py",
        'def is_palindrome(text):\n    """Whether `text` reads the same backwards."""\n'
        "    letters = [c.lower() for c in text if c.isalnum()]\n    return letters == letters[::-1]\n",
        _tests("from textkit.palindrome import is_palindrome",
               "    def test_sentence(self):\n"
               "        self.assertTrue(is_palindrome('A man, a plan, a canal: Panama'))\n\n"
               "    def test_not(self):\n        self.assertFalse(is_palindrome('bgagent'))\n"),
        ("bug",)),
    StarterCase(
        "title-case", "textkit",
        "Implement title_case() in textkit/titles.py: capitalise every word, except 'a', 'an', 'the', 'of', 'and' "
        "(kept lowercase) when they are not the first word ('the lord of the rings' -> 'The Lord of the Rings').",
        "textkit/titles.py",
        'SMALL = {"a", "an", "the", "of", "and"}\n\n\ndef title_case(text):\n    """`text` as a title."""\n'
        "    words = text.lower().split()\n"
        "    return ' '.join(w if i and w in SMALL else w.capitalize() for i, w in enumerate(words))\n",
        _tests("from textkit.titles import title_case",
               "    def test_small_words(self):\n"
               "        self.assertEqual(title_case('the lord of the rings'), 'The Lord of the Rings')\n\n"
               "    def test_upper_input(self):\n"
               "        self.assertEqual(title_case('WAR AND PEACE'), 'War and Peace')\n"),
        ("feature",)),
    StarterCase(
        "mean-empty", "mathkit",
        "mean([]) in mathkit/stats.py crashes with ZeroDivisionError. Raise ValueError('mean of an empty sequence') "
        "instead; other inputs behave as before.",
        "mathkit/stats.py",
        'def mean(values):\n    """The arithmetic mean of `values`."""\n    if not values:\n'
        "        raise ValueError('mean of an empty sequence')\n    return sum(values) / len(values)\n",
        _tests("from mathkit.stats import mean",
               "    def test_empty(self):\n        with self.assertRaisesRegex(ValueError, 'empty'):\n"
               "            mean([])\n\n    def test_floats(self):\n        self.assertEqual(mean([1, 2]), 1.5)\n"),
        ("bug",)),
    StarterCase(
        "median-unsorted", "mathkit",
        "median() in mathkit/median.py assumes sorted input and ignores even lengths. Return the true median of "
        "any list: the middle value once sorted, or the mean of the two middle values for an even length.",
        "mathkit/median.py",
        'def median(values):\n    """The median of `values`."""\n    ordered = sorted(values)\n'
        "    middle = len(ordered) // 2\n    if len(ordered) % 2:\n        return ordered[middle]\n"
        "    return (ordered[middle - 1] + ordered[middle]) / 2\n",
        _tests("from mathkit.median import median",
               "    def test_unsorted(self):\n        self.assertEqual(median([3, 1, 2]), 2)\n\n"
               "    def test_even(self):\n        self.assertEqual(median([4, 1, 3, 2]), 2.5)\n"),
        ("bug",)),
    StarterCase(
        "clamp-bounds", "mathkit",
        "clamp(x, lo, hi) in mathkit/clamp.py returns the wrong value: it must return lo when x < lo, hi when "
        "x > hi, and x otherwise.",
        "mathkit/clamp.py",
        'def clamp(x, lo, hi):\n    """`x` held within [lo, hi]."""\n    return max(lo, min(x, hi))\n',
        _tests("from mathkit.clamp import clamp",
               "    def test_inside(self):\n        self.assertEqual(clamp(5, 0, 10), 5)\n\n"
               "    def test_outside(self):\n"
               "        self.assertEqual((clamp(-1, 0, 10), clamp(11, 0, 10)), (0, 10))\n"),
        ("bug",)),
    StarterCase(
        "fizzbuzz-fifteen", "mathkit",
        "fizzbuzz(15) in mathkit/fizzbuzz.py returns 'Fizz'; multiples of both 3 and 5 must give 'FizzBuzz'.",
        "mathkit/fizzbuzz.py",
        'def fizzbuzz(n):\n    """Fizz for multiples of 3, Buzz for 5, FizzBuzz for both, else the number."""\n'
        "    if n % 15 == 0:\n        return 'FizzBuzz'\n    if n % 3 == 0:\n        return 'Fizz'\n"
        "    if n % 5 == 0:\n        return 'Buzz'\n    return str(n)\n",
        _tests("from mathkit.fizzbuzz import fizzbuzz",
               "    def test_fifteen(self):\n        self.assertEqual(fizzbuzz(30), 'FizzBuzz')\n\n"
               "    def test_others(self):\n        self.assertEqual([fizzbuzz(n) for n in (5, 7)], ['Buzz', '7'])\n"),
        ("bug",)),
    StarterCase(
        "gcd-negative", "mathkit",
        "gcd() in mathkit/gcd.py can return a negative number (gcd(12, -18) is -6). The greatest common divisor "
        "is never negative: return 6 there, and keep gcd(0, 0) == 0.",
        "mathkit/gcd.py",
        'def gcd(a, b):\n    """The greatest common divisor of `a` and `b`."""\n    a, b = abs(a), abs(b)\n'
        "    while b:\n        a, b = b, a % b\n    return a\n",
        _tests("from mathkit.gcd import gcd",
               "    def test_negative(self):\n        self.assertEqual((gcd(12, -18), gcd(-4, -6)), (6, 2))\n\n"
               "    def test_zero(self):\n        self.assertEqual(gcd(0, 0), 0)\n"),
        ("bug",)),
)
