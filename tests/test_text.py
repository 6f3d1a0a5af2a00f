"""``hub.text.human_duration``: durations as a person reads them, for every module (the
requests dashboard, the alert report)."""

from django.utils import translation

from hub.text import human_duration

HOUR, DAY = 3600, 86400


def test_durations_read_like_a_stopwatch_then_a_calendar():
    with translation.override("fr"):
        assert human_duration(21.864933) == "21 s"
        assert human_duration(59.9) == "59 s"
        assert human_duration(5 * 60) == "5 min"
        assert human_duration(HOUR) == "1 h"
        assert human_duration(3725) == "1 h 2 min"
        assert human_duration(3 * DAY + 4 * HOUR) == "3 j 4 h"
        assert human_duration(2 * DAY) == "2 j"
    with translation.override("en"):
        assert human_duration(3 * DAY + 4 * HOUR) == "3 d 4 h"
    assert human_duration(None) == ""
    assert human_duration(-5) == "0 s"  # clock skew never shows a negative delay
