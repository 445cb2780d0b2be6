"""Decontamination beyond exact n-grams: per-item fingerprints (containment of
word 3-grams with numbers masked, embedding sketches for paraphrases), the
offending item named, and near-duplicates within the pool and across iterations."""

import json

import numpy as np
import pytest

from data_agent import fingerprints as fpmod
from data_agent.domain import DomainError, load_domain, unsealed_test
from data_agent.records import Record
from data_agent.validators import (ContaminationValidator, NearDuplicateValidator, contamination_validator,
                                   default_pipeline)

PROBLEM = ("A sample of 2.50 mol of a perfect gas at 300 K occupies 15.0 dm3. The gas is compressed isothermally "
           "and reversibly until its volume is 5.0 dm3. Calculate the work done on the gas during the compression.")


def _rec(d, inp, out="We use the formula.\nThe answer is therefore \\boxed{1.000}."):
    return Record(instruction=d.instruction, input=inp, output=out, answer=1.0)


def _fp(texts, embed=None):
    items = [(f"item-{k}", "val" if k % 2 else "test", t) for k, t in enumerate(texts)]
    fake = embed or (lambda ts: np.stack([np.eye(384, dtype=np.float32)[k % 384] for k, _ in enumerate(ts)]))
    return fpmod.EvalFingerprints.from_dict(fpmod.build(items, fake))


def test_shingles_mask_numbers_and_latex_markup():
    a = fpmod.shingles("Compute $\\mathrm{p}$ for 2.50 mol at 300 K")
    b = fpmod.shingles("compute p for 7.25 mol at 410 K")
    assert a == b and b"for 0 0" in a
    assert fpmod.shingles("two words") == {b"two words"} and fpmod.shingles("") == set()
    assert fpmod.shingles("at 300 K", mask_numbers=False) == {b"at 300 k"}


@pytest.mark.parametrize("edit, least", [
    (lambda t: t, 0.95),
    (lambda t: t.replace("2.50", "3.75").replace("300", "410").replace("15.0", "12.5"), 0.95),  # numbers changed
    (lambda t: " ".join(w + (" indeed" if i % 10 == 5 else "") for i, w in enumerate(t.split())), 0.5),  # inserted
    (lambda t: " ".join(w for i, w in enumerate(t.split()) if i % 10 != 3), 0.5),  # deleted
    (lambda t: "Here is a long solution that goes on about other things first. " * 5 + t, 0.9),  # quoted in a long text
])
def test_containment_survives_edits_and_quotation(edit, least):
    fp = _fp([PROBLEM, "An unrelated problem about dice, coins and cards drawn from a deck without replacement."])
    c = fp.containments(fpmod.shingles(edit(PROBLEM)))
    assert c[0] >= least and c[1] < 0.2


def test_unrelated_text_contains_nothing():
    fp = _fp([PROBLEM])
    assert fp.containments(fpmod.shingles("Find the derivative of x squared plus three x at x equals two."))[0] < 0.1
    assert fp.containments(set())[0] == 0


def test_fingerprint_file_holds_no_problem_text_and_checks_its_settings(tmp_path):
    data = fpmod.build([("a", "val", PROBLEM)], lambda ts: np.ones((len(ts), 384), np.float32) / np.sqrt(384))
    text = json.dumps(data)
    for phrase in ("perfect gas", "isothermally", "compression", "2.50"):
        assert phrase not in text
    assert set(data["items"][0]) == {"id", "split", "shingles", "minhash", "sketch", "numbers", "numbers_minhash"}
    data["minhash"]["num_perm"] = 64
    with pytest.raises(fpmod.FingerprintError, match=r"minhash.num_perm is 64"):
        fpmod.EvalFingerprints.from_dict(data, "x/fingerprints.json")
    data["minhash"]["num_perm"] = fpmod.NUM_PERM
    data["items"][0]["minhash"] = "bm90IGEgc2lnbmF0dXJl"
    with pytest.raises(fpmod.FingerprintError, match=r"x/fingerprints.json: items\[0\]: malformed"):
        fpmod.EvalFingerprints.from_dict(data, "x/fingerprints.json")


def test_sketch_cosines_estimate_the_embedding_cosine():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(384).astype(np.float32)
    a /= np.linalg.norm(a)
    for target in (0.95, 0.8, 0.3):
        noise = rng.standard_normal(384).astype(np.float32)
        noise -= noise @ a * a
        noise /= np.linalg.norm(noise)
        b = target * a + np.sqrt(1 - target ** 2) * noise
        from data_agent.embeddings import sketch, sketch_cosines

        est = sketch_cosines(sketch(a[None], 512, 0)[0], sketch(b[None], 512, 0))[0]
        assert abs(est - target) < 0.08, (target, est)


def test_the_shipped_packs_are_fingerprinted():
    for name in ("science", "code", "finance"):
        d = load_domain(name)
        fp = d.fingerprints
        assert fp is not None
        counts = d.manifest["counts"]
        assert fp.splits.count("val") == counts["val"] and fp.splits.count("test") == counts["test"]


def test_a_copied_or_quoted_test_item_is_rejected_by_id():
    d = load_domain("science")
    check = contamination_validator(d)
    with unsealed_test("test fixture: plant test problems"):
        items = d.test_items(4)
    for it in items:
        v = check.check(_rec(d, it.input))
        assert not v.ok and f"test item {it.id}" in v.reason, v.reason
    quoted = _rec(d, "Find the volume of a cube of side 2 cm.",
                  f"First recall a similar problem: {items[0].input} Then the cube: 8 cm3.\n"
                  "The answer is therefore \\boxed{8}.")
    v = check.check(quoted)
    assert not v.ok and v.kind == "output containment" and items[0].id in v.reason


def test_a_light_edit_of_a_validation_item_is_rejected():
    d = load_domain("science")
    check = contamination_validator(d)
    it = d.val_items()[3]
    words = it.input.split()
    edited = " ".join(w for i, w in enumerate(words) if i % 9 != 4)  # every 9th word dropped
    v = check.check(_rec(d, edited))
    assert not v.ok and f"validation item {it.id}" in v.reason


def test_a_paraphrase_is_rejected_and_an_unrelated_problem_passes():
    d = load_domain("science")
    check = contamination_validator(d)
    it = next(i for i in d.val_items() if i.id == "fund-05a3b8faf3")  # two 1.00 C charges 1.00 m apart
    from data_agent.embeddings import embed, sketch

    vec = embed([fpmod.embedding_text(it.input)])[0]
    k = check.fp.ids.index(it.id)
    same = np.unpackbits(sketch(vec[None], fpmod.SKETCH_BITS, fpmod.SKETCH_SEED)[0] ^ check.fp.sketches[k]).sum()
    assert same <= 8  # the pack's sketch is this embedding's (a few bits may flip across CPU kernels)
    para = ("Imagine two point charges of 1.00 C each placed $1.00 \\mathrm{~m}$ apart (no such charges really "
            "exist). How strong would the electric force between them be, in $10^9 \\mathrm{~N}$?")
    v = check.check(_rec(d, para))
    assert not v.ok and v.kind == "paraphrase" and f"validation item {it.id}" in v.reason, v.reason
    ok = check.check(_rec(d, "A ball is thrown straight up at 12 m/s. How high does it rise? Neglect air resistance."))
    assert ok.ok, ok.reason


def test_paraphrase_threshold_applies_to_the_estimated_cosine():
    texts = ["one problem text about gases", "another problem text about springs"]
    vecs = np.eye(384, dtype=np.float32)[:2]
    fp = _fp(texts, embed=lambda ts: vecs[:len(ts)])
    check = ContaminationValidator(fp, containment=0.99, paraphrase={"cosine": 0.9})
    d = load_domain("science")
    rec = _rec(d, "completely different wording of the first")
    check._sketches[rec.input] = fp.sketches[0]  # the same embedding direction as item-0
    v = check.check(rec)
    assert not v.ok and v.kind == "paraphrase" and "item-0" in v.reason


def test_pack_thresholds_are_validated_and_read(science_copy):
    m = json.loads((science_copy / "pack.json").read_text())
    m["decontamination"]["containment"] = 1.5
    (science_copy / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match=r"decontamination.containment"):
        load_domain(science_copy)
    m["decontamination"]["containment"] = 0.7
    m["decontamination"]["paraphrase"] = {"cosine": 0.95}
    (science_copy / "pack.json").write_text(json.dumps(m))
    check = contamination_validator(load_domain(science_copy))
    assert check.containment == 0.7 and check.paraphrase["cosine"] == 0.95
    assert check.paraphrase["numbers"] == 0.75  # the defaults fill in the rest
    m["decontamination"]["paraphrase"] = {"cosines": 0.95}
    (science_copy / "pack.json").write_text(json.dumps(m))
    with pytest.raises(DomainError, match=r"decontamination.paraphrase"):
        load_domain(science_copy)


def test_a_damaged_fingerprint_file_is_a_pack_error(science_copy):
    (science_copy / "fingerprints.json").write_text("{}")
    with pytest.raises(DomainError, match=r"fingerprints.json"):
        load_domain(science_copy)


def test_near_duplicates_within_the_pool_and_against_earlier_iterations():
    d = load_domain("science")
    first = ("A spring of constant 200 N/m hangs from a ceiling and is stretched by 0.10 m from its natural length "
             "by a mass attached to its lower end. Find the elastic potential energy stored in the spring.")
    nd = NearDuplicateValidator([("iteration 1 record 0", first)])
    v = nd.check(_rec(d, first.replace("stretched", "pulled")))  # one word changed
    assert not v.ok and "iteration 1 record 0" in v.reason and v.kind in ("word 3-grams", "embedding")
    sibling = first.replace("constant 200", "constant 350").replace("0.10 m", "0.25 m")
    s = nd.check(_rec(d, sibling))  # the same template with other numbers: another exercise
    assert s.ok, s.reason
    other = _rec(d, "Two point charges of 3 uC each sit 0.2 m apart in vacuum, held in place by insulating "
                    "stands on a bench. Find the magnitude of the electrostatic force between them.")
    other.id = "it02-x"
    assert nd.check(other).ok
    nd.accept(other)
    v = nd.check(_rec(d, other.input.replace("in vacuum", "in a vacuum")))
    assert not v.ok and "record it02-x" in v.reason


def test_pipeline_counts_rejections_by_kind():
    d = load_domain("science")
    pipe = default_pipeline(d)
    it = d.val_items()[0]
    pipe.prepare([_rec(d, it.input)])
    assert not pipe.check(_rec(d, it.input)).ok
    s = pipe.summary()
    assert s["rejected_by_reason"] == {"decontamination": 1}
    assert list(s["rejected_by_kind"]) == ["decontamination: 8-gram overlap"]


def test_a_paraphrase_keeps_the_numbers_the_same_question_with_others_is_another_exercise():
    vecs = np.eye(384, dtype=np.float32)[:1]
    fp = _fp(["What is 25 + 17 when both are added?"], embed=lambda ts: vecs[:len(ts)])
    check = ContaminationValidator(fp, containment=0.99)
    d = load_domain("science")
    same, other = _rec(d, "Add 17 to 25: what do you get?"), _rec(d, "Work out 31 + 12.")
    for r in (same, other):
        check._sketches[r.input] = fp.sketches[0]  # wording as close as it gets
    v = check.check(same)
    assert not v.ok and v.kind == "paraphrase" and "holds 100% of its 2 numbers" in v.reason, v.reason
    assert check.check(other).ok


@pytest.mark.parametrize("name", ["science", "code", "finance"])
def test_each_shipped_pack_holds_the_fingerprints_of_its_own_items(name):
    """fingerprints.json is what the pack's items give: every field rebuilt
    exactly but the embedding sketches, and those of a sample of items
    re-embedded within a few bits (a float rounding may flip a hyperplane sign
    on another CPU). The pack builds leave the whole file out of their
    byte-for-byte rebuild test: embedding every item takes minutes."""
    import base64

    from data_agent.embeddings import embed, sketch

    from data_agent.packs import fingerprint_inputs

    dom = load_domain(name)
    items, seeds = fingerprint_inputs(dom, "checking the shipped fingerprints against the pack's items")
    shipped = json.loads(dom.file("decontamination.fingerprints").read_text())
    zero = lambda ts: np.zeros((len(ts), 384), dtype=np.float32)  # noqa: E731
    rebuilt = fpmod.build(items, zero, seed_texts=seeds)
    strip = lambda d: {**d, "items": [{k: v for k, v in it.items() if k != "sketch"} for it in d["items"]]}  # noqa: E731
    assert strip(rebuilt) == strip(shipped)
    sample = list(range(0, len(items), max(1, len(items) // 12)))[:12]
    fresh = sketch(embed([fpmod.embedding_text(items[k][2]) for k in sample]), fpmod.SKETCH_BITS, fpmod.SKETCH_SEED)
    for row, k in zip(fresh, sample):
        stored = np.frombuffer(base64.b64decode(shipped["items"][k]["sketch"]), dtype=np.uint8)
        flipped = int(np.unpackbits(row ^ stored).sum())
        assert flipped <= fpmod.SKETCH_BITS // 50, (name, items[k][0], flipped)


def test_the_pipeline_embeds_each_record_once_for_both_embedding_checks(monkeypatch):
    """The near-duplicate and the paraphrase checks share one masked embedding
    per record; a reworded repeat with the same numbers is a near-duplicate by
    embedding, the same wording with other numbers is not."""
    import data_agent.embeddings as emb

    real, calls = emb.embed, []

    def counting(texts, *a, **kw):
        texts = list(texts)
        calls.append(len(texts))
        return real(texts, *a, **kw)

    monkeypatch.setattr(emb, "embed", counting)
    d = load_domain("science")
    base = ("A car of mass 1200 kg moving at 20 m/s brakes to rest over a distance of 50 m on a level road. "
            "What is the magnitude of the average braking force?")
    recs = [_rec(d, base),
            _rec(d, base.replace("moving", "travelling").replace("level", "flat")),  # word 3-gram Jaccard 0.66
            _rec(d, base.replace("1200", "900").replace("20 m/s", "15 m/s").replace("50 m", "30 m"))]
    for k, r in enumerate(recs):
        r.id = f"r{k}"
    pipe = default_pipeline(d)
    calls.clear()
    pipe.prepare(recs)
    verdicts = [pipe.check(r) for r in recs]
    assert calls == [3], calls  # one batch, one embedding per record
    assert verdicts[0].ok and verdicts[2].ok, [v.reason for v in verdicts]
    assert not verdicts[1].ok and verdicts[1].kind == "embedding" and "record r0" in verdicts[1].reason, \
        verdicts[1].reason
