"""Demo subscribers live at addresses of the hub's civic address register, and the
district each is placed in is the one their address falls in."""

from __future__ import annotations

from hub.models import CivicAddress
from modules.alertes.demo import DEMO_PREFIX
from modules.alertes.models import Subscriber


def test_demo_subscribers_are_placed_by_their_address(site):
    subscribers = list(Subscriber.objects.filter(name__startswith=DEMO_PREFIX))
    assert len(subscribers) == 500
    assert len({s.civic_address for s in subscribers}) >= 300
    by_label = {a.label: a.district_id for a in CivicAddress.objects.all()}
    for subscriber in subscribers:
        assert subscriber.district_id is not None
        assert by_label[subscriber.civic_address] == subscriber.district_id
