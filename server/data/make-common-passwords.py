#!/usr/bin/env python3
"""Writes common-passwords.txt, the server's default password blocklist.

Built from plain facts, not from any published password list: the words people are known to
build passwords from (English words in everyday use, month, day and season names, number
words, colours, animals, first names common in the US census, sports), each with the digit
and symbol endings people add to meet old composition rules, plus keyboard walks and digit
runs. The server also matches each password's "stem" (lower case, separators and leading or
trailing digits removed, common letter-for-symbol swaps undone, one repeated unit), so the
list needs the stems more than every decoration of them.

A City replaces the list with its own (for example one built from breach corpora) through the
server's `--password-blocklist` setting. Run: python3 make-common-passwords.py > common-passwords.txt
"""

WORDS = """
password passwd pass passcode passphrase secret letmein welcome login logon admin administrator
root master default changeme change guest user test tester testing demo temp temporary
qwerty azerty asdf asdfgh zxcvbn abc abcd abcdef abcdefg abc123 iloveyou loveyou love lover
hello hi hey whatever nothing something anything everything trustno trustnoone freedom liberty
monkey dragon shadow sunshine princess prince queen king knight angel devil god jesus christ
heaven hell football baseball basketball soccer hockey golf tennis cricket rugby boxing
superman batman spiderman ironman starwars startrek pokemon matrix ninja pirate wizard
computer internet network server system security access office work company business
city cityhall citycouncil municipal municipality government council mayor county state town
employee employer staff manager boss team member account accounts finance payroll police
fire firefighter library parks water transit school student teacher doctor nurse
money cash dollar rich gold silver diamond treasure lucky luck winner champion victory
summer winter spring autumn fall season holiday christmas easter halloween birthday
monday tuesday wednesday thursday friday saturday sunday weekend today tomorrow yesterday
january february march april may june july august september october november december
one two three four five six seven eight nine ten eleven twelve hundred thousand million
red orange yellow green blue purple violet pink black white grey gray brown silver
cat dog puppy kitten bear tiger lion eagle falcon hawk wolf fox horse pony rabbit bunny
dolphin shark whale panda monkey mouse snake spider bird fish turtle chicken cow pig
flower rose lily daisy tulip sunflower tree forest garden ocean river mountain sky star moon sun
music guitar piano rock metal jazz dance party beer wine coffee chocolate cookie pizza
family mother father mom dad mommy daddy sister brother baby babygirl babyboy son daughter
friend friends forever always never together happy smile sweet sweetheart honey darling
beautiful pretty cute hot sexy lovely iloveu babe
america usa canada england london paris newyork texas florida california chicago boston
michael christopher matthew joshua daniel david james robert john joseph andrew ryan
brandon jason justin william jonathan anthony thomas richard charles kevin steven brian
mark paul george kenneth edward ronald timothy jeffrey gary eric stephen larry scott
jessica ashley amanda sarah jennifer elizabeth emily samantha stephanie nicole melissa
michelle lauren heather amber rachel megan hannah rebecca laura maria linda barbara susan
margaret dorothy lisa nancy karen betty helen sandra donna carol ruth sharon patricia mary
alice bob charlie eve mallory admin1 user1
""".split()

ENDINGS = ["", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01", "007",
           "2023", "2024", "2025", "2026"]

WALKS = [
    "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm", "qazwsxedcrfvtgbyhnujmikolp",
    "zxcvbnmasdfghjklqwertyuiop", "1234567890qwertyuiop", "qwertzuiopasdfghjkl",
    "azertyuiopqsdfghjklmwxcvbn", "0987654321poiuytrewq", "1q2w3e4r5t6y7u8i9o0p",
    "!qaz@wsx#edc$rfv", "zaq12wsxcde34rfv",
]


def main():
    entries = set()
    for word in WORDS:
        for ending in ENDINGS:
            entries.add(word + ending)
        entries.add(word + word)
    for walk in WALKS:
        for end in range(6, len(walk) + 1):
            entries.add(walk[:end])
    digits = "01234567890123456789"
    for start in range(10):
        for length in range(6, 21):
            entries.add(digits[start:start + length] if start + length <= 20 else None)
    entries.discard(None)
    print("# cityauth's default password blocklist; see make-common-passwords.py.")
    for entry in sorted(entries):
        print(entry)


if __name__ == "__main__":
    main()
