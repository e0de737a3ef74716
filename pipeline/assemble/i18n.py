"""The few words an edition prints itself, by language; English when a language is missing."""

from __future__ import annotations

TERMS: dict[str, dict[str, str]] = {
    "en": {"figure": "Figure", "table": "Table", "section": "Section", "contents": "Contents",
           "references": "References", "summary": "Summary", "shared": "Shared sections",
           "cases": "Case studies", "outside": "{ref} in the full paper", "offprint": "Offprint",
           "paper": "Full paper", "cite": "How to cite", "draft": "Draft", "from": "from", "skip": "Skip to content",
           "editions": "Editions", "read": "Read online", "download": "Download", "edited_by": "Edited by", "checksums": "File sizes and SHA-256 checksums", "guide": "For authors: how to write a chapter", "untranslated": "This chapter has not been translated yet; it follows in the original language.", "language": "English"},
    "de": {"figure": "Abbildung", "table": "Tabelle", "section": "Abschnitt", "contents": "Inhalt",
           "references": "Literatur", "summary": "Zusammenfassung", "shared": "Gemeinsame Kapitel",
           "cases": "Fallstudien", "outside": "{ref} im vollständigen Papier", "offprint": "Sonderdruck",
           "paper": "Vollständiges Papier", "cite": "Zitiervorschlag", "draft": "Entwurf", "from": "aus", "skip": "Zum Inhalt springen",
           "editions": "Ausgaben", "read": "Online lesen", "download": "Herunterladen", "edited_by": "Herausgegeben von", "checksums": "Dateigrößen und SHA-256-Prüfsummen", "guide": "Für Autorinnen und Autoren: wie man ein Kapitel schreibt", "untranslated": "Dieses Kapitel ist noch nicht übersetzt; es folgt in der Originalsprache.", "language": "Deutsch"},
    "fr": {"figure": "Figure", "table": "Tableau", "section": "Section", "contents": "Table des matières",
           "references": "Références", "summary": "Résumé", "shared": "Chapitres communs",
           "cases": "Études de cas", "outside": "{ref} du document complet", "offprint": "Tiré à part",
           "paper": "Document complet", "cite": "Pour citer", "draft": "Version provisoire", "from": "extrait de", "skip": "Aller au contenu",
           "editions": "Éditions", "read": "Lire en ligne", "download": "Télécharger", "edited_by": "Sous la direction de", "checksums": "Tailles et sommes de contrôle SHA-256", "guide": "Pour les auteurs : comment rédiger un chapitre", "untranslated": "Ce chapitre n’est pas encore traduit ; il suit dans sa langue d’origine.", "language": "Français"},
    "fi": {"figure": "Kuva", "table": "Taulukko", "section": "Luku", "contents": "Sisällys",
           "references": "Lähteet", "summary": "Tiivistelmä", "shared": "Yhteiset luvut",
           "cases": "Tapaustutkimukset", "outside": "{ref} koko julkaisussa", "offprint": "Eripainos",
           "paper": "Koko julkaisu", "cite": "Viittausohje", "draft": "Luonnos", "from": "julkaisusta", "skip": "Siirry sisältöön",
           "editions": "Versiot", "read": "Lue verkossa", "download": "Lataa", "edited_by": "Toimittanut", "checksums": "Tiedostokoot ja SHA-256-tarkistussummat", "guide": "Kirjoittajille: näin kirjoitat luvun", "untranslated": "Tätä lukua ei ole vielä käännetty; se on tässä alkukielellä.", "language": "Suomi"},
    "es": {"figure": "Figura", "table": "Tabla", "section": "Sección", "contents": "Índice",
           "references": "Referencias", "summary": "Resumen", "shared": "Capítulos comunes",
           "cases": "Estudios de caso", "outside": "{ref} del documento completo", "offprint": "Separata",
           "paper": "Documento completo", "cite": "Cómo citar", "draft": "Borrador", "from": "de", "skip": "Ir al contenido",
           "editions": "Ediciones", "read": "Leer en línea", "download": "Descargar", "edited_by": "Edición a cargo de", "checksums": "Tamaños y sumas de control SHA-256", "guide": "Para autores: cómo escribir un capítulo", "untranslated": "Este capítulo aún no está traducido; sigue en su idioma original.", "language": "Español"},
}


def terms(lang: str) -> dict[str, str]:
    """Terms for a BCP 47 tag: 'de-AT' falls back to 'de', an unknown language to English."""
    base = lang.split("-", 1)[0].lower()
    return {**TERMS["en"], **TERMS.get(base, {})}


def language_name(lang: str) -> str:
    """A language's name in that language ('Deutsch'), or its tag when we have no words for it."""
    return TERMS.get(lang.split("-", 1)[0].lower(), {}).get("language", lang)
