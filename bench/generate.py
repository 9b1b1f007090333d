"""Generate realistic conflict-event data in kgraph's vocabulary, at a chosen size, as N-Triples.

The benchmarks need graphs of 10k to millions of triples shaped like the article's (a place hierarchy, armed forces
and units, dated events with participants and places, claims that confirm or dispute each other, provenance), so
that queries exercise the same joins, paths and filters at scale. Every resource is synthetic, under
``https://w3id.org/kgraph/id/gen/``, and labelled as generated: nothing here is a fact about the real world.

    .venv/bin/python bench/generate.py --triples 1M --seed 7 -o /tmp/gen-1m.nt

The output has exactly ``--triples`` lines, and the same seed always gives the same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

KG = "https://w3id.org/kgraph/ontology#"
GEN = "https://w3id.org/kgraph/id/gen/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
TIME = "http://www.w3.org/2006/time#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
GEO = "http://www.opengis.net/ont/geosparql#"

EVENT_CLASSES = ("Battle", "Offensive", "Advance", "Capture", "Incursion", "Counteroffensive", "DefensiveOperation")
STANCES = ("stanceClaims", "stanceConfirms", "stanceDenies", "stanceDisputes", "stanceAcknowledges", "stanceReports")
FIRST_DAY = dt.date(2024, 8, 6)
DAYS = 330
"""Events fall between 6 August 2024 and early July 2025, like the article's."""
SEASONS = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring"} | dict.fromkeys(
    (6, 7, 8), "summer"
)
SUFFIXES = {"k": 1_000, "m": 1_000_000}


def kg(name: str) -> str:
    return f"<{KG}{name}>"


def gen(path: str) -> str:
    return f"<{GEN}{path}>"


def text(value: str, lang: str = "en") -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + f'"@{lang}'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{datatype}>'


class Generator:
    """Lines of N-Triples, in an order that introduces places and actors before the events that use them."""

    def __init__(self, triples: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.countries = 4
        self.regions = max(3, triples // 100_000)  # per country
        self.settlements = max(5, triples // (1_000 * self.countries * self.regions))  # per region
        self.units = max(4, triples // 5_000)  # per country
        self.agencies = 5
        self.times: set[str] = set()

    def lines(self) -> Iterator[str]:
        """The whole graph, endlessly: a fixed world, then events with their claims until the caller stops."""
        yield from self.places()
        yield from self.actors()
        number = 0
        while True:
            yield from self.event(number)
            number += 1

    def places(self) -> Iterator[str]:
        for c in range(self.countries):
            country = gen(f"country-{c}")
            yield from (
                f"{country} {RDF_TYPE} {kg('Country')} .",
                f"{country} {RDF_TYPE} {kg('State')} .",
                f"{country} {LABEL} {text(f'Generated country {c}')} .",
            )
            for r in range(self.regions):
                region = gen(f"region-{c}-{r}")
                yield from (
                    f"{region} {RDF_TYPE} {kg('Region')} .",
                    f"{region} {LABEL} {text(f'Generated region {c}-{r}')} .",
                    f"{region} {kg('locatedIn')} {country} .",
                )
                for s in range(self.settlements):
                    yield from self.settlement(c, r, s, region)

    def settlement(self, c: int, r: int, s: int, region: str) -> Iterator[str]:
        settlement, point = gen(f"settlement-{c}-{r}-{s}"), gen(f"settlement-{c}-{r}-{s}-point")
        longitude = 30 + 10 * self.rng.random()
        latitude = 46 + 8 * self.rng.random()
        yield from (
            f"{settlement} {RDF_TYPE} {kg('Settlement')} .",
            f"{settlement} {LABEL} {text(f'Generated settlement {c}-{r}-{s}')} .",
            f"{settlement} {kg('locatedIn')} {region} .",
            f"{settlement} <{GEO}hasGeometry> {point} .",
            f"{point} {RDF_TYPE} <{GEO}Geometry> .",
            f"{point} {LABEL} {text(f'Location of generated settlement {c}-{r}-{s}')} .",
            f"{point} <{GEO}asWKT> {typed(f'POINT({longitude:.5f} {latitude:.5f})', GEO + 'wktLiteral')} .",
        )

    def actors(self) -> Iterator[str]:
        for c in range(self.countries):
            force = gen(f"force-{c}")
            yield from (
                f"{force} {RDF_TYPE} {kg('ArmedForce')} .",
                f"{force} {LABEL} {text(f'Armed forces of generated country {c}')} .",
                f"{force} {kg('forceOf')} {gen(f'country-{c}')} .",
            )
            for u in range(self.units):
                unit = gen(f"unit-{c}-{u}")
                yield from (
                    f"{unit} {RDF_TYPE} {kg('MilitaryUnit')} .",
                    f"{unit} {LABEL} {text(f'Generated unit {c}-{u}')} .",
                    f"{unit} {kg('partOfForce')} {force} .",
                )
        for a in range(self.agencies):
            agency = gen(f"agency-{a}")
            yield from (
                f"{agency} {RDF_TYPE} {kg('NewsAgency')} .",
                f"{agency} {LABEL} {text(f'Generated news agency {a}')} .",
            )

    def event(self, number: int) -> Iterator[str]:
        """One event: type, label, time, place, two sides, provenance; claims about it, one disputed."""
        rng = self.rng
        event, report = gen(f"event-{number}"), gen(f"report-{number}")
        kind = rng.choice(EVENT_CLASSES)
        attacker_country = rng.randrange(self.countries)
        defender_country = (attacker_country + 1 + rng.randrange(self.countries - 1)) % self.countries
        place_country = rng.choice((attacker_country, defender_country))
        place = gen(f"settlement-{place_country}-{rng.randrange(self.regions)}-{rng.randrange(self.settlements)}")
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        when = yield from self.time(day)
        yield from (
            f"{event} {RDF_TYPE} {kg(kind)} .",
            f"{event} {LABEL} {text(f'Generated {kind.lower()} {number}')} .",
            f"{event} {kg('hasTime')} {when} .",
            f"{event} {kg('hasPlace')} {place} .",
            f"{event} {kg('attacker')} {gen(f'unit-{attacker_country}-{rng.randrange(self.units)}')} .",
            f"{event} {kg('defender')} {gen(f'unit-{defender_country}-{rng.randrange(self.units)}')} .",
            f"{event} <{PROV}wasDerivedFrom> {report} .",
            f"{report} {RDF_TYPE} {kg('Report')} .",
            f"{report} {LABEL} {text(f'Generated report {number}')} .",
            f"{report} <{PROV}wasAttributedTo> {gen(f'agency-{rng.randrange(self.agencies)}')} .",
            f"{report} <{PROV}generatedAtTime> {typed(f'{day.isoformat()}T12:00:00Z', XSD + 'dateTime')} .",
        )
        if kind == "Capture":
            yield f"{event} {kg('captured')} {place} ."
        if number % 10:
            yield f"{event} {kg('partOfEvent')} {gen(f'event-{number - number % 10}')} ."
        yield from self.claims(number, event, report, attacker_country, defender_country, when)

    def claims(self, number: int, event: str, report: str, side: int, other: int, when: str) -> Iterator[str]:
        """A claim by the attacking side and, half of the time, the other side disputing it."""
        proposition, claim = gen(f"proposition-{number}"), gen(f"claim-{number}")
        yield from (
            f"{proposition} {RDF_TYPE} {kg('Proposition')} .",
            f"{proposition} {LABEL} {text(f'The generated event {number} succeeded.')} .",
            *self.claim(claim, side, self.rng.choice(STANCES[:3]), event, proposition, report, when),
        )
        if self.rng.random() < 0.5:
            dispute = gen(f"claim-{number}-disputed")
            yield from self.claim(dispute, other, "stanceDisputes", event, proposition, report, when)
            yield f"{dispute} {kg('disputes')} {claim} ."

    def claim(
        self, claim: str, country: int, stance: str, event: str, proposition: str, report: str, when: str
    ) -> Iterator[str]:
        yield from (
            f"{claim} {RDF_TYPE} {kg('Claim')} .",
            f"{claim} {LABEL} {text(f'Generated claim: {stance[6:].lower()} {event[len(GEN) + 1 : -1]}')} .",
            f"{claim} {kg('claimant')} {gen(f'country-{country}')} .",
            f"{claim} {kg('stance')} {kg(stance)} .",
            f"{claim} {kg('about')} {event} .",
            f"{claim} {kg('statement')} {proposition} .",
            f"{claim} {kg('byTime')} {when} .",
            f"{claim} {kg('quote')} {typed(f'Generated statement {self.rng.randrange(10**6)}', XSD + 'string')} .",
            f"{claim} <{PROV}wasDerivedFrom> {report} .",
        )

    def time(self, day: dt.date) -> Iterator[str]:
        """The event's time at a mixed precision (day, month or season, as the article's); its triples the first
        time it is used. Returns the time resource (a generator's return value)."""
        roll = self.rng.random()
        if roll < 0.6:
            key, lines = day.isoformat(), self.day_lines
        elif roll < 0.9:
            key, lines = day.strftime("%Y-%m"), self.month_lines
        else:
            season = SEASONS.get(day.month, "fall")
            year = day.year + 1 if day.month == 12 else day.year
            key, lines = f"{season}-{year}", self.season_lines
        resource = gen(f"time/{key}")
        if key not in self.times:
            self.times.add(key)
            yield from lines(resource, key, day)
        return resource

    def day_lines(self, resource: str, key: str, day: dt.date) -> tuple[str, ...]:
        return (
            f"{resource} {RDF_TYPE} <{TIME}Instant> .",
            f"{resource} {LABEL} {text(day.strftime('%-d %B %Y'))} .",
            f"{resource} <{TIME}inXSDDate> {typed(key, XSD + 'date')} .",
            f"{resource} {kg('precision')} <{TIME}unitDay> .",
        )

    def month_lines(self, resource: str, key: str, day: dt.date) -> tuple[str, ...]:
        description = gen(f"time/{key}-description")
        return (
            f"{resource} {RDF_TYPE} <{TIME}DateTimeInterval> .",
            f"{resource} {LABEL} {text(day.strftime('%B %Y'))} .",
            f"{resource} <{TIME}hasDateTimeDescription> {description} .",
            f"{description} {RDF_TYPE} <{TIME}DateTimeDescription> .",
            f"{description} <{TIME}unitType> <{TIME}unitMonth> .",
            f"{description} <{TIME}year> {typed(str(day.year), XSD + 'gYear')} .",
            f"{description} <{TIME}month> {typed(day.strftime('--%m'), XSD + 'gMonth')} .",
            f"{resource} {kg('precision')} <{TIME}unitMonth> .",
        )

    def season_lines(self, resource: str, key: str, day: dt.date) -> tuple[str, ...]:
        return (
            f"{resource} {RDF_TYPE} {kg('VagueInterval')} .",
            f"{resource} {LABEL} {text(key.replace('-', ' '))} .",
            f"{resource} {kg('precision')} {kg('unitSeason')} .",
        )


def write(path: Path | None, triples: int, seed: int) -> None:
    """Exactly ``triples`` lines of N-Triples to ``path`` (stdout when None), written in large chunks."""
    lines = Generator(triples, seed).lines()
    out = path.open("w", encoding="utf-8") if path else sys.stdout
    try:
        remaining = triples
        while remaining:
            chunk = [next(lines) for _ in range(min(remaining, 50_000))]
            out.write("\n".join(chunk) + "\n")
            remaining -= len(chunk)
    finally:
        if path:
            out.close()


def count(value: str) -> int:
    """A triple count as people write it: 10000, 10k, 1M."""
    value = value.strip().lower().replace("_", "")
    factor = SUFFIXES.get(value[-1:], 1)
    return int(float(value[:-1] if factor > 1 else value) * factor)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=count, default=count("10k"), help="how many triples: 10000, 100k, 1M")
    parser.add_argument("--seed", type=int, default=1, help="same seed, same output")
    parser.add_argument("-o", "--output", type=Path, help="N-Triples file to write (default: stdout)")
    args = parser.parse_args(argv)
    write(args.output, args.triples, args.seed)


if __name__ == "__main__":
    main()
