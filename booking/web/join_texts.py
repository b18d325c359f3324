"""The personal join page's words in the five languages (issue 20): the page speaks its
invitee's language (the one their invitation was sent in)."""

from __future__ import annotations

from booking.domain.join_links import JoinRefusal

LANGUAGES = ("en", "cs", "de", "fr", "pl")

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Join the conference",
        "intro": "You join from this browser with a headset: no PIN is needed. This link is yours alone.",
        "name": "Your name, as the others see it",
        "join": "Join",
        "leave": "Leave",
        "mute": "Mute",
        "unmute": "Unmute",
        "microphone": "Microphone level",
        "people": "In the conference",
        "nobody": "Nobody is in the conference yet.",
        "left": "Time left",
        "no_end": "no end time",
        "minutes": "min",
        "connecting": "Connecting…",
        "in_call": "You are in the conference.",
        "ended": "The call has ended.",
        "web": "web",
        "phone": "phone participant",
        "moderator": "moderator",
        "reload": "Open your link again",
        "unknown": "This join link is not valid. Please open the link from your invitation again.",
        "used": "This page's call was already made. Reload the page to join again.",
        "expired": "This page has been open too long. Reload the page to join.",
        "not_active": "This conference has been cancelled.",
        "over": "This conference has already ended.",
        "too_early": "This conference starts at {time}. You can join from five minutes before the start.",
        "too_many": "Too many attempts from this address. Please wait a little and try again.",
    },
    "cs": {
        "title": "Připojit se ke konferenci",
        "intro": (
            "Připojíte se z tohoto prohlížeče se sluchátky: PIN není potřeba. Tento odkaz je jen pro vás."
        ),
        "name": "Vaše jméno, jak ho uvidí ostatní",
        "join": "Připojit",
        "leave": "Odejít",
        "mute": "Ztlumit",
        "unmute": "Zrušit ztlumení",
        "microphone": "Úroveň mikrofonu",
        "people": "V konferenci",
        "nobody": "V konferenci zatím nikdo není.",
        "left": "Zbývá",
        "no_end": "bez konce",
        "minutes": "min",
        "connecting": "Připojuji…",
        "in_call": "Jste v konferenci.",
        "ended": "Hovor skončil.",
        "web": "web",
        "phone": "účastník po telefonu",
        "moderator": "moderátor",
        "reload": "Otevřít odkaz znovu",
        "unknown": "Tento odkaz pro připojení není platný. Otevřete prosím znovu odkaz z pozvánky.",
        "used": "Hovor z této stránky už proběhl. Pro nové připojení stránku znovu načtěte.",
        "expired": "Stránka je otevřená příliš dlouho. Pro připojení ji znovu načtěte.",
        "not_active": "Tato konference byla zrušena.",
        "over": "Tato konference již skončila.",
        "too_early": "Tato konference začíná v {time}. Připojit se můžete pět minut před začátkem.",
        "too_many": "Příliš mnoho pokusů z této adresy. Chvíli počkejte a zkuste to znovu.",
    },
    "de": {
        "title": "An der Konferenz teilnehmen",
        "intro": (
            "Sie nehmen in diesem Browser mit einem Headset teil: keine "
            "PIN nötig. Dieser Link gilt nur für Sie."
        ),
        "name": "Ihr Name, wie die anderen ihn sehen",
        "join": "Teilnehmen",
        "leave": "Verlassen",
        "mute": "Stumm schalten",
        "unmute": "Stummschaltung aufheben",
        "microphone": "Mikrofonpegel",
        "people": "In der Konferenz",
        "nobody": "Noch niemand ist in der Konferenz.",
        "left": "Verbleibende Zeit",
        "no_end": "kein Ende",
        "minutes": "Min.",
        "connecting": "Verbinde…",
        "in_call": "Sie sind in der Konferenz.",
        "ended": "Der Anruf ist beendet.",
        "web": "Web",
        "phone": "Teilnehmer per Telefon",
        "moderator": "Moderator",
        "reload": "Link erneut öffnen",
        "unknown": (
            "Dieser Teilnahme-Link ist nicht gültig. Bitte öffnen Sie den Link aus Ihrer Einladung erneut."
        ),
        "used": (
            "Der Anruf dieser Seite wurde bereits geführt. Laden Sie die Seite neu, um erneut teilzunehmen."
        ),
        "expired": "Diese Seite ist zu lange geöffnet. Laden Sie die Seite neu, um teilzunehmen.",
        "not_active": "Diese Konferenz wurde abgesagt.",
        "over": "Diese Konferenz ist bereits beendet.",
        "too_early": "Diese Konferenz beginnt um {time}. Sie können ab fünf Minuten vor Beginn teilnehmen.",
        "too_many": (
            "Zu viele Versuche von dieser Adresse. Bitte warten Sie kurz und versuchen Sie es erneut."
        ),
    },
    "fr": {
        "title": "Rejoindre la conférence",
        "intro": (
            "Vous rejoignez depuis ce navigateur avec un casque : aucun code "
            "PIN n'est nécessaire. Ce lien vous est personnel."
        ),
        "name": "Votre nom, tel que les autres le verront",
        "join": "Rejoindre",
        "leave": "Quitter",
        "mute": "Couper le micro",
        "unmute": "Rétablir le micro",
        "microphone": "Niveau du micro",
        "people": "Dans la conférence",
        "nobody": "Personne n'est encore dans la conférence.",
        "left": "Temps restant",
        "no_end": "sans fin",
        "minutes": "min",
        "connecting": "Connexion…",
        "in_call": "Vous êtes dans la conférence.",
        "ended": "L'appel est terminé.",
        "web": "web",
        "phone": "participant par téléphone",
        "moderator": "modérateur",
        "reload": "Rouvrir votre lien",
        "unknown": "Ce lien de participation n'est pas valide. Veuillez rouvrir le lien de votre invitation.",
        "used": "L'appel de cette page a déjà eu lieu. Rechargez la page pour rejoindre à nouveau.",
        "expired": "Cette page est ouverte depuis trop longtemps. Rechargez-la pour rejoindre.",
        "not_active": "Cette conférence a été annulée.",
        "over": "Cette conférence est déjà terminée.",
        "too_early": (
            "Cette conférence commence à {time}. Vous pouvez la rejoindre cinq minutes avant le début."
        ),
        "too_many": "Trop de tentatives depuis cette adresse. Veuillez patienter un peu et réessayer.",
    },
    "pl": {
        "title": "Dołącz do konferencji",
        "intro": (
            "Dołączasz z tej przeglądarki ze słuchawkami: PIN nie jest "
            "potrzebny. Ten link jest tylko dla Ciebie."
        ),
        "name": "Twoje imię, tak jak zobaczą je inni",
        "join": "Dołącz",
        "leave": "Wyjdź",
        "mute": "Wycisz",
        "unmute": "Wyłącz wyciszenie",
        "microphone": "Poziom mikrofonu",
        "people": "W konferencji",
        "nobody": "Nikogo jeszcze nie ma w konferencji.",
        "left": "Pozostały czas",
        "no_end": "bez końca",
        "minutes": "min",
        "connecting": "Łączenie…",
        "in_call": "Jesteś w konferencji.",
        "ended": "Połączenie zakończone.",
        "web": "web",
        "phone": "uczestnik telefoniczny",
        "moderator": "moderator",
        "reload": "Otwórz link ponownie",
        "unknown": "Ten link do dołączenia jest nieprawidłowy. Proszę ponownie otworzyć link z zaproszenia.",
        "used": "Połączenie z tej strony już się odbyło. Aby dołączyć ponownie, odśwież stronę.",
        "expired": "Ta strona jest otwarta zbyt długo. Aby dołączyć, odśwież ją.",
        "not_active": "Ta konferencja została odwołana.",
        "over": "Ta konferencja już się zakończyła.",
        "too_early": "Ta konferencja zaczyna się o {time}. Można dołączyć pięć minut przed rozpoczęciem.",
        "too_many": "Zbyt wiele prób z tego adresu. Proszę chwilę poczekać i spróbować ponownie.",
    },
}
assert all(set(words) == set(_WORDS["en"]) for words in _WORDS.values()), "every language has every text"

# What each refusal answers over HTTP: never 500, each its own code for the page's script.
STATUS = {
    JoinRefusal.UNKNOWN: 404,
    JoinRefusal.USED: 409,
    JoinRefusal.EXPIRED: 410,
    JoinRefusal.NOT_ACTIVE: 410,
    JoinRefusal.OVER: 410,
    JoinRefusal.TOO_EARLY: 425,
}


def words(language: str) -> dict[str, str]:
    return _WORDS.get(language, _WORDS["en"])
