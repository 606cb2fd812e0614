#!/usr/bin/env bash
# The ssdf-ai demo: runs ssdf on the bundled example project (examples/churn).
# `make demo` runs it with the project's virtualenv on PATH. It works on a copy of the example
# in a temporary folder, so the repository stays clean and every run starts from an empty store.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/ssdf-demo.XXXXXX")"
project="$work/churn"
cp -R "$here/churn" "$project"
rm -rf "$project/.ssdf"
out="$work/out"
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

echo "ssdf-ai demo on a copy of examples/churn at $project"
step "ssdf version" ssdf --version

# PO.1, PO.2, PO.4: requirements, roles and check criteria live in the project's ssdf.toml.
step "1. Validate the project's configuration (PO.1.1, PO.2.1, PO.4.1)" \
  ssdf config validate "$project"

# The profile as data: what SP 800-218A asks of an AI model producer.
step "2. The SP 800-218A profile: high-priority tasks of the PW group" \
  ssdf profile list --group PW --priority high
step "   One task with its AI-specific items" ssdf profile show PW.4.4
step "   Export the profile as an OSCAL catalog and an OSCAL profile over NIST's SSDF 1.1" \
  ssdf profile export --format oscal --oscal-kind catalog --output "$out/sp800-218a-catalog.json"
ssdf profile export --format oscal --oscal-kind profile --output "$out/sp800-218a-profile.json"

# The evidence store (.ssdf/ in the project): record what people and tools produce (PO.3.3).
step "3. Record the dataset's data card as evidence about the dataset (PO.3.3, PS.3.1)" \
  ssdf evidence add "$project/data/DATA_CARD.md" --kind data-card \
  --subject "$project/data/customers.csv" --subject-kind dataset --project "$project"
step "   Record the acquired model's card as evidence about the model (PW.4.4)" \
  ssdf evidence add "$project/third_party/README.md" --kind model-card \
  --subject "$project/third_party" --subject-kind model --project "$project"
step "   What the store holds" ssdf evidence list --kind artifacts --project "$project"

# PS.3.1: archive what a release needs, with a manifest of SHA-256 digests, and check it.
step "4. Export the evidence as a verifiable archive (PS.3.1)" \
  ssdf evidence export "$out/evidence.tar" --project "$project"
step "   Verify the archive" ssdf evidence verify "$out/evidence.tar"

# A tampered copy fails verification with exit code 1 and names the changed member.
python3 - "$out/evidence.tar" "$out/tampered.tar" <<'PY'
import io, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
    for member in tin.getmembers():
        data = tin.extractfile(member).read()
        if member.name.startswith("blobs/"):
            data = data.replace(b"synthetic", b"SYNTHETIC", 1)
        member.size = len(data)
        tout.addfile(member, io.BytesIO(data))
PY
printf '\n\033[1m== %s\033[0m\n$ %s\n' "   Verify a tampered copy (expect exit code 1)" \
  "ssdf evidence verify $out/tampered.tar"
set +e
ssdf evidence verify "$out/tampered.tar"
code=$?
set -e
if [ "$code" -ne 1 ]; then
  echo "demo: expected exit code 1 for the tampered archive, got $code" >&2
  exit 1
fi

# PW.4.4, PW.7.2: scan the models (the downloaded one included) without executing anything.
step "5. Scan the model folders: content-based, nothing is loaded or executed (PW.4.4, PW.7.2)" \
  ssdf scan "$project/models" "$project/third_party" --project "$project"
# A "downloaded" pickle whose loading would run a command that creates a canary file.
canary="$work/CANARY-if-this-exists-the-scanner-executed-the-model"
python3 - "$project/third_party/extra_head.pkl" "$canary" <<'PY'
import os, pickle, sys
class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {sys.argv[2]}",))
with open(sys.argv[1], "wb") as handle:
    handle.write(pickle.dumps(Payload(), protocol=4))
PY
printf '\n\033[1m== %s\033[0m\n$ %s\n' "   A malicious pickle is caught (expect exit code 1) and never run" \
  "ssdf scan $project/third_party --project $project"
set +e
ssdf scan "$project/third_party" --project "$project"
code=$?
set -e
if [ "$code" -ne 1 ] || [ -e "$canary" ]; then
  echo "demo: the malicious pickle was not caught (exit $code) or was executed" >&2
  exit 1
fi
step "   Converting it to safetensors is refused, naming the offending global (exit code 1)" \
  bash -c "ssdf convert '$project/third_party/extra_head.pkl' --project '$project' || test \$? -eq 1"
rm "$project/third_party/extra_head.pkl"
ssdf scan "$project/models" "$project/third_party" --project "$project" --quiet

# PW.5.1, PW.7, PO.5.1, PS.1.1, PS.1.3, PW.4.4, RV.1.1: the code and environment checks. The
# example carries planted mistakes (examples/churn/README.md, "Planted mistakes"); each check
# finds its share of them, so each exits 1.
expect_findings() {
  printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"
  set +e
  "${@:2}"
  local code=$?
  set -e
  if [ "$code" -ne 1 ]; then
    echo "demo: expected exit code 1 (planted mistakes found), got $code" >&2
    exit 1
  fi
}
echo
echo "The example carries a few planted mistakes of the kind real AI projects make: an"
echo "explainer service (explain.py), a notebook with a saved output, its requirements and its"
echo "CI workflow. The next four checks find them (expect exit code 1 from each)."
expect_findings "6. Unsafe AI code: model loading, remote code, model output into a shell (PW.5.1, PW.7.2)" \
  ssdf code "$project" --project "$project"
expect_findings "   Plaintext secrets in files, notebook outputs, model metadata, git history (PO.5.1 R6)" \
  ssdf secrets "$project" --project "$project"
step "   Import vulnerability advisories (OSV format; offline here, from examples/advisories)" \
  ssdf advisories update --from "$here/advisories" --project "$project"
expect_findings "   Dependencies against the advisories: ML frameworks with fixes (PW.4.4, RV.1.1 R3)" \
  ssdf deps "$project" --project "$project"
expect_findings "   Least privilege: permissions, committed keys and weights, CI workflows (PS.1.1, PO.5.1)" \
  ssdf env "$project" --project "$project"

# Assessment: every control over the evidence, rolled up to the 48 tasks of SP 800-218A.
step "7. Assess the project against SP 800-218A (summary as Markdown, as for a pull request)" \
  ssdf assess "$project" --format markdown
ssdf assess "$project" --quiet --format html --output "$out/assessment.html"
echo "(full report: $out/assessment.html, one self-contained file)"

# PO.2.2 (role-based training) is a practice no tool can check: a person attests to it,
# signing with their own key, and the attestation counts until it expires.
export SSDF_DEMO_PASSPHRASE="demo passphrase, not a secret"
step "8. A signing key for the ML engineering lead (passphrase from an environment variable)" \
  ssdf keys generate "Priya Natarajan" --passphrase-env SSDF_DEMO_PASSPHRASE --project "$project"
cat >> "$project/ssdf.toml" <<'TOML'

[[signers]]
name = "Priya Natarajan"
public_key = "keys/Priya-Natarajan.pub"
TOML
step "   Priya attests that role-based training covers AI model threats (PO.2.2)" \
  ssdf attest PO.2.2 --project "$project" \
  --statement "All ML engineers completed the AI threat-modelling course (OWASP LLM Top 10)." \
  --evidence "$project/data/DATA_CARD.md" --by "Priya Natarajan" --role "ML engineering" \
  --key "$project/keys/Priya-Natarajan.key" --passphrase-env SSDF_DEMO_PASSPHRASE --expires 180d

# PS.1.3, PS.2.1: Priya signs the acquired model in the OpenSSF model signing format with her
# key. The signature goes to the outputs, so the model folder stays exactly as scanned.
step "9. Sign the acquired model: a digest of every file, signed (PS.1.3, PS.2.1)" \
  ssdf sign "$project/third_party" --key "$project/keys/Priya-Natarajan.key" \
  --passphrase-env SSDF_DEMO_PASSPHRASE --signature "$out/third_party.sig" --project "$project"
step "   Verify it: the signature is Priya's and every file matches exactly (exit code 0)" \
  ssdf verify "$project/third_party" --key "$project/keys/Priya-Natarajan.pub" \
  --signature "$out/third_party.sig" --project "$project"
# A copy of the model with one byte changed fails verification with exit code 1, naming the
# file and both digests (not recorded: the copy is not the project's model).
tampered="$work/third_party-tampered"
cp -R "$project/third_party" "$tampered"
python3 - "$tampered/model.safetensors" <<'PY'
import sys
with open(sys.argv[1], "r+b") as handle:
    handle.seek(-1, 2)
    last = handle.read(1)[0]
    handle.seek(-1, 2)
    handle.write(bytes([last ^ 1]))
PY
printf '\n\033[1m== %s\033[0m\n$ %s\n' "   Verify a copy with one byte changed (expect exit code 1)" \
  "ssdf verify $tampered --key $project/keys/Priya-Natarajan.pub --signature $out/third_party.sig --no-record --project $project"
set +e
ssdf verify "$tampered" --key "$project/keys/Priya-Natarajan.pub" \
  --signature "$out/third_party.sig" --no-record --project "$project"
code=$?
set -e
if [ "$code" -ne 1 ]; then
  echo "demo: expected exit code 1 for the tampered model, got $code" >&2
  exit 1
fi
step "   What changed since the first assessment" ssdf assess "$project" --compare

# PW.3.2, PS.3.2, PW.6.2: the example's own model, trained from registered data under
# `ssdf record`, which signs SLSA provenance of the run (inputs, outputs, environment) into
# .intoto.jsonl. The data is synthetic: generate_data.py wrote it (data/DATA_CARD.md), so its
# provenance is known and it holds no real person's data (the customer ids are made up).
if ! python -c "import sklearn, skops" 2>/dev/null; then
  echo "error: the example's train.py needs scikit-learn and skops: pip install -e '.[examples]'" >&2
  echo "(make demo installs them)" >&2
  exit 2
fi
model="$project/models/churn-model.skops"
priya_key=("--key" "$project/keys/Priya-Natarajan.key" "--passphrase-env" "SSDF_DEMO_PASSPHRASE")
step "10. Register the training data: where it came from, its licence, its provenance (PW.3.2)" \
  ssdf data register "$project/data/customers.csv" --source file:generate_data.py \
  --license Apache-2.0 --provenance known --project "$project" \
  --description "4,000 synthetic customers written by generate_data.py (seed 20240726)"
(
  cd "$project"
  step "   Train the model under ssdf record: signed provenance of the run (PS.3.2, PW.6.2)" \
    ssdf record --name train-churn --dataset data/customers.csv --config config/train.toml \
    --input train.py --output models/churn-model.skops --output models/metrics.json \
    "${priya_key[@]}" -- python train.py
)
step "   Check every recorded run: trusted signer, outputs unchanged (exit code 0)" \
  ssdf provenance verify --project "$project"
step "   The data registry: no data of unknown provenance, no sensitive data" \
  ssdf data list --project "$project"
step "   Check the training data: poisoning, bias, duplicates, secrets, tampering (PW.3.1, PS.1.2)" \
  ssdf data check "$project/data/customers.csv" --label churned --sensitive senior_citizen \
  --html "$out/data-report.html" --fail-on high --project "$project"
ssdf scan "$project/models" "$project/third_party" --project "$project" --quiet

# PS.1.3, PS.2.1, PS.3.2, PO.1.2: sign the trained model, then describe it from the evidence.
step "11. Sign the trained model (PS.1.3, PS.2.1) and verify it" \
  ssdf sign "$model" "${priya_key[@]}" --signature "$out/churn-model.sig" --project "$project"
ssdf verify "$model" --key "$project/keys/Priya-Natarajan.pub" --signature "$out/churn-model.sig" \
  --project "$project" --quiet
step "   Its bills of materials: CycloneDX 1.6 ML-BOM and SPDX 3.0.1 (PS.3.2)" \
  ssdf bom "$model" --output "$out/churn-model.cdx.json" \
  --spdx-output "$out/churn-model.spdx.json" --project "$project"
step "   Its model card, filled from the recorded evidence (PO.1.2, PS.3.1 R2, RV.1.3)" \
  ssdf card "$model" --output "$out/MODEL_CARD.md" --project "$project"
awk '/^## Why this model/ { on = 1; print; next } /^## / { on = 0 } on' "$out/MODEL_CARD.md"
step "   The data card of the training data (PO.1.2, PW.3.2)" \
  ssdf card "$project/data/customers.csv" --data --output "$out/DATA_CARD.md" \
  --project "$project"

# PS.3.1: one signed, versioned archive holds everything an acquirer needs; they verify it.
step "12. Release 1.0.0: signature, provenance, BOMs, card, scan and assessment, signed (PS.3.1)" \
  ssdf release build "$model" --version 1.0.0 "${priya_key[@]}" --out "$out" --project "$project"
step "   Verify the release as an acquirer would, with the model's files (exit code 0)" \
  ssdf release verify "$out/churn-1.0.0.tar.gz" --key "$project/keys/Priya-Natarajan.pub" \
  --model "$model"
step "   What the provenance, BOM, card and release controls say now" \
  ssdf assess "$project" --compare

# The reports that producers, acquirers and auditors exchange.
step "13. OSCAL assessment results and POA&M, and the CISA attestation form" \
  ssdf assess "$project" --format oscal-ar --output "$out/assessment-results.json"
ssdf assess "$project" --quiet --format oscal-poam --output "$out/poam.json"
ssdf assess "$project" --quiet --format cisa-text --output "$out/cisa-form.txt"
ssdf assess "$project" --quiet --format html --output "$out/assessment.html"
head -n 20 "$out/cisa-form.txt"

# The gate for CI: exit 1 while criteria are not met, with what fixes each failure.
printf '\n\033[1m== %s\033[0m\n$ %s\n' "14. The CI gate (expect exit code 1: most tasks still need evidence)" \
  "ssdf gate $project"
set +e
ssdf gate "$project" | head -n 25
code=${PIPESTATUS[0]}
set -e
if [ "$code" -ne 1 ]; then
  echo "demo: expected exit code 1 from the gate, got $code" >&2
  exit 1
fi

echo
echo "Demo finished. Outputs are in $out; the example's evidence store is $project/.ssdf"
