"""Write the synthetic customer churn data set of the example: data/customers.csv.

Only the standard library is used, every random draw comes from one seeded generator, and only
arithmetic follows it (no log, exp or pow, whose last bits may differ between C libraries), so
the output is the same bytes on every machine and Python version 3.11 or later. The committed
CSV is this script's output with the defaults; a test regenerates it and compares the bytes.

Usage:
    python generate_data.py [--out data/customers.csv] [--rows 4000] [--seed 20240726]
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "data" / "customers.csv"
DEFAULT_ROWS = 4000
# The publication date of NIST SP 800-218A (26 July 2024).
DEFAULT_SEED = 20240726

COLUMNS = (
    "customer_id",
    "region",
    "senior_citizen",
    "tenure_months",
    "contract",
    "internet_service",
    "payment_method",
    "paperless_billing",
    "monthly_charges",
    "total_charges",
    "support_tickets",
    "churned",
)
REGIONS = (("north", 0.28), ("south", 0.22), ("east", 0.2), ("west", 0.18), ("central", 0.12))
CONTRACTS = (("month-to-month", 0.52), ("one-year", 0.26), ("two-year", 0.22))
INTERNET = (("fiber", 0.44), ("dsl", 0.34), ("none", 0.22))
PAYMENT = (
    ("electronic-check", 0.34),
    ("mailed-check", 0.22),
    ("bank-transfer", 0.22),
    ("credit-card", 0.22),
)


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    """One value from weighted options, with a single draw (stable across versions)."""
    draw = rng.random()
    total = 0.0
    for value, weight in options:
        total += weight
        if draw < total:
            return value
    return options[-1][0]


def _normal(rng: random.Random) -> float:
    """An approximately standard normal draw: the Irwin-Hall sum of twelve uniforms."""
    return sum(rng.random() for _ in range(12)) - 6.0


def _count(rng: random.Random, mean: float, limit: int) -> int:
    """A geometric count with the given mean, capped at ``limit``."""
    keep_going = mean / (1.0 + mean)
    count = 0
    while count < limit and rng.random() < keep_going:
        count += 1
    return count


def _customer(rng: random.Random, index: int) -> dict[str, str]:
    region = _pick(rng, REGIONS)
    senior = rng.random() < 0.16
    contract = _pick(rng, CONTRACTS)
    max_tenure = {"month-to-month": 36, "one-year": 60, "two-year": 72}[contract]
    draw = rng.random()
    tenure = 1 + int(max_tenure * (draw + draw * draw) / 2)
    internet = _pick(rng, INTERNET)
    payment = _pick(rng, PAYMENT)
    paperless = rng.random() < 0.6
    base = {"fiber": 70.0, "dsl": 50.0, "none": 22.0}[internet]
    monthly = round(max(18.0, base + 12.0 * _normal(rng)), 2)
    total = round(monthly * tenure * (0.96 + 0.08 * rng.random()), 2)
    tickets = _count(rng, 1.6 if internet == "fiber" else 0.8, 12)

    # The churn signal: short tenure, month-to-month contracts, many support tickets, high
    # charges and electronic checks raise the odds; long contracts lower them.
    score = -1.2
    score += {"month-to-month": 1.1, "one-year": -0.4, "two-year": -1.6}[contract]
    score += -0.045 * tenure
    score += 0.32 * tickets
    score += 0.018 * (monthly - 60.0)
    score += 0.45 if payment == "electronic-check" else 0.0
    score += 0.3 if senior else 0.0
    score += 0.2 if region == "south" else 0.0
    score += 0.6 * _normal(rng)
    # A logistic-shaped link without exp(): s / (1 + |s|) maps the score into (-1, 1).
    steep = 2.0 * score
    churned = rng.random() < 0.5 + 0.5 * steep / (1.0 + abs(steep))

    return {
        "customer_id": f"C{index:05d}",
        "region": region,
        "senior_citizen": str(int(senior)),
        "tenure_months": str(tenure),
        "contract": contract,
        "internet_service": internet,
        "payment_method": payment,
        "paperless_billing": str(int(paperless)),
        "monthly_charges": f"{monthly:.2f}",
        "total_charges": f"{total:.2f}",
        "support_tickets": str(tickets),
        "churned": str(int(churned)),
    }


def generate(out: Path, *, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> Path:
    """Write ``rows`` synthetic customers to ``out`` as CSV.

    Args:
        out: The CSV file to write; its directory is created if needed.
        rows: How many customers.
        seed: The random seed.

    Returns:
        ``out``.
    """
    rng = random.Random(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for index in range(1, rows + 1):
            writer.writerow(_customer(rng, index))
    return out


def main() -> None:
    """Parse the command line and write the data set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="number of customers")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args()
    path = generate(args.out, rows=args.rows, seed=args.seed)
    print(f"wrote {args.rows} customers to {path}")


if __name__ == "__main__":
    main()
