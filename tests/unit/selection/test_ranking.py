"""Selection rules: inflection point, targets, ranking by cost; properties checked by brute force."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles.catalog.catalog import default_catalog
from profiles.selection.ranking import Pricing, Targets, inflection, meets_latency, price_point
from profiles.selection.ranking import rank as rank_curves
from profiles.store.points import Curve
from profiles.store.store import ProfileStore
from tests.support.points import curve, curves_of, point

CAT = default_catalog()
ON_DEMAND = Pricing("on-demand")


def rank(catalog, points, targets, pricing):
    """Rank the curves these points form, as the store groups them."""
    return rank_curves(catalog, curves_of(points), targets, pricing)


def test_inflection_is_the_knee_of_a_saturating_curve():
    # throughput grows linearly at flat latency, then plateaus while latency climbs
    pts = curve([(1, 195, 20), (2, 390, 21), (4, 770, 24), (8, 1200, 35), (16, 1300, 90), (32, 1320, 300)])
    assert inflection(Curve(tuple(pts))).source_id == "r8"


def test_inflection_on_published_nim_sweep():
    """N01/N03/N05 (Llama-3.3-70B FP8, 2xH100, concurrency 1/25/100): the knee is concurrency 25."""
    store = ProfileStore.load()
    nim = [c for c in store.curves() if c.head.model_server == "nim"]
    assert len(nim) == 1 and [p.source_id for p in nim[0].points] == ["N01", "N03", "N05"]
    assert inflection(nim[0]).source_id == "N03"


def test_inflection_without_latency_is_the_highest_throughput():
    pts = [point(output_tps=t, ntpot_ms=None, source_id=str(t)) for t in (100.0, 900.0, 500.0)]
    assert inflection(Curve(tuple(pts))).source_id == "900.0"


def test_targets_choose_the_highest_throughput_point_meeting_all():
    pts = curve([(1, 195, 20), (4, 770, 24), (8, 1200, 35), (16, 1300, 90)])
    ranking = rank(CAT, pts, Targets(ntpot_ms=40), ON_DEMAND)
    assert ranking.candidates[0].point.source_id == "r8"
    ranking = rank(CAT, pts, Targets(ntpot_ms=40, ttft_ms=45), ON_DEMAND)  # every ttft is 50 ms
    assert ranking.candidates == [] and len(ranking.excluded) == 1


def test_an_itl_only_target_filters():
    """gcloud drops an ITL-only target; here it filters like any other."""
    pts = [point(itl_ms=i, output_tps=t, input_tps=t, source_id=str(i)) for i, t in ((10, 100.0), (30, 900.0))]
    assert rank(CAT, pts, Targets(itl_ms=20), ON_DEMAND).candidates[0].point.source_id == "10"
    assert rank(CAT, pts, Targets(itl_ms=5), ON_DEMAND).candidates == []


def test_a_point_without_the_targeted_metric_never_qualifies():
    assert not meets_latency(point(ttft_ms=None), Targets(ttft_ms=10_000))
    assert meets_latency(point(ttft_ms=None), Targets(ntpot_ms=10_000))


def test_cost_targets_filter_and_unpriced_rows_sort_last():
    cheap = curve([(1, 2000, 20)], instance_type="g2-standard-12", accelerator_type="nvidia-l4")
    dear = curve([(1, 2000, 20)], instance_type="a3-highgpu-1g")
    unpriced = curve([(1, 9000, 20)], instance_type="a3-ultragpu-8g", accelerator_type="nvidia-h200-141gb",
                     accelerator_count=8)
    ranking = rank(CAT, cheap + dear + unpriced, Targets(), ON_DEMAND)
    assert [c.point.instance_type for c in ranking.candidates] == ["g2-standard-12", "a3-highgpu-1g", "a3-ultragpu-8g"]
    assert ranking.candidates[-1].cost is None
    l4_cost = ranking.candidates[0].cost.per_million_output
    limited = rank(CAT, cheap + dear + unpriced, Targets(cost_per_million_output=l4_cost * 1.01), ON_DEMAND)
    assert [c.point.instance_type for c in limited.candidates] == ["g2-standard-12"]
    assert len(limited.excluded) == 2  # the dearer one and the unpriced one


# ---- properties ------------------------------------------------------------------------------------
MACHINES = [("g2-standard-12", "nvidia-l4", 1), ("a2-ultragpu-1g", "nvidia-a100-80gb", 1),
            ("a3-highgpu-1g", "nvidia-h100-80gb", 1), ("a3-highgpu-2g", "nvidia-h100-80gb", 2),
            ("ct6e-standard-4t", "tpu-v6e-slice", 4)]
metric = st.floats(min_value=1, max_value=5000, allow_nan=False)


@st.composite
def stores(draw):
    points = []
    for i, (machine, acc, count) in enumerate(draw(st.lists(st.sampled_from(MACHINES), min_size=1, max_size=5, unique=True))):
        for j in range(draw(st.integers(1, 6))):
            out = draw(st.floats(min_value=10, max_value=50_000))
            points.append(point(instance_type=machine, accelerator_type=acc, accelerator_count=count,
                                tpu_topology="2x2" if acc.startswith("tpu") else "", load_value=j + 1, output_tps=out,
                                input_tps=out * draw(st.floats(0.1, 20)), ntpot_ms=draw(metric), ttft_ms=draw(metric),
                                itl_ms=draw(st.one_of(st.none(), metric)), source_id=f"{i}-{j}"))
    return points


latency_targets = st.builds(Targets, ntpot_ms=st.one_of(st.none(), metric), ttft_ms=st.one_of(st.none(), metric),
                            itl_ms=st.one_of(st.none(), metric)).filter(lambda t: t.latency)


def feasible_costs(points, targets):
    out = []
    for p in points:
        if p.output_tps and meets_latency(p, targets):
            _, cost = price_point(CAT, p, ON_DEMAND)
            if cost:
                out.append(cost.per_million_output)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=stores(), targets=latency_targets)
def test_winner_is_never_beaten_on_cost_by_a_feasible_point(points, targets):
    ranking = rank(CAT, points, targets, ON_DEMAND)
    costs = feasible_costs(points, targets)
    priced = [c for c in ranking.candidates if c.cost]
    if not costs:
        assert not priced
        return
    assert priced and priced[0] is ranking.candidates[0]
    assert priced[0].cost.per_million_output <= min(costs) * (1 + 1e-9)


@settings(max_examples=150, deadline=None)
@given(points=stores(), targets=latency_targets)
def test_every_selected_point_meets_every_target(points, targets):
    for c in rank(CAT, points, targets, ON_DEMAND).candidates:
        for name, limit in targets.latency.items():  # checked here, not with the module's own predicate
            value = getattr(c.point, name)
            assert value is not None and value <= limit
        assert c.point in c.curve.points


@settings(max_examples=150, deadline=None)
@given(points=stores(), targets=latency_targets, factor=st.floats(0.05, 1.0))
def test_tightening_a_target_never_lowers_the_chosen_cost(points, targets, factor):
    def best(t):
        priced = [c for c in rank(CAT, points, t, ON_DEMAND).candidates if c.cost]
        return priced[0].cost.per_million_output if priced else None

    name = next(iter(targets.latency))
    tighter = Targets(**{**targets.__dict__, name: targets.latency[name] * factor})
    loose, tight = best(targets), best(tighter)
    if tight is not None:
        assert loose is not None and tight >= loose * (1 - 1e-9)


def test_a_target_above_the_curves_latency_runs_it_at_maximum_throughput():
    points = curve([(1, 400, 20), (4, 1500, 25), (8, 2700, 32), (16, 3300, 70)])
    loose = rank(CAT, points, Targets(ntpot_ms=500), ON_DEMAND).candidates[0]
    assert loose.point.output_tps == 3300 and loose.rule.startswith("maximum throughput")
    tight = rank(CAT, points, Targets(ntpot_ms=40), ON_DEMAND).candidates[0]
    assert tight.point.output_tps == 2700 and tight.rule.startswith("highest throughput at NTPOT <= 40 ms")
