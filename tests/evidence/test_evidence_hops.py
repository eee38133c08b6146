"""One hop-selection rule for every export: exactly one source; sightings may name a request's targets."""

import pytest

from relaytrack.errors import InputError
from relaytrack.evidence.hops import check_source

CLI = {"route": "--route", "sightings": "--sightings", "alert": "--alert"}
API = {"route": "`origin` (a route)", "sightings": "`sightings`", "request": "`request_id`"}


def test_exactly_one_source():
    assert check_source(CLI, route={"hops": []}) == "route"
    assert check_source(CLI, sightings=[1, 2]) == "sightings"
    assert check_source(CLI, alert=3) == "alert"
    assert check_source(API, request_id=4) == "request"
    assert check_source(API, request_id=4, sightings=[1]) == "request"  # the request's targets
    assert check_source(API, route=5, sightings=[]) == "route"  # empty sightings are not given


@pytest.mark.parametrize(
    "names,kw",
    [
        (CLI, {}),
        (CLI, {"route": {}, "sightings": [1]}),
        (CLI, {"sightings": [1], "alert": 2}),
        (CLI, {"request_id": 1}),  # the CLI export offers no request
        (API, {"route": 1, "sightings": [2]}),
        (API, {"route": 1, "request_id": 2}),
        (API, {"alert": 1}),
    ],
)
def test_refused_with_the_interface_names(names, kw):
    with pytest.raises(InputError) as err:
        check_source(names, **kw)
    assert str(err.value).startswith("give exactly one of " + next(iter(names.values())))
