"""Issue 13, item 4: an English subscriber's call when the alert has no English text is
read in French by the French voice (fr-CA), never French words in an English voice; the
officer is warned before sending."""

from django.utils import translation

from modules.alertes import services
from modules.alertes.models import Delivery

from .conftest import make_subscriber
from .phone import says
from .test_voice import MESSAGE_EN, MESSAGE_FR, phone, send, voice_alert  # noqa: F401


def test_no_english_text_means_a_french_call_in_the_french_voice(phone, twilio):  # noqa: F811
    make_subscriber(voice="+14503702222", language="en")
    alert = voice_alert(voice_en="", body_en="", title_en="")
    send(alert)
    [played] = phone.play()
    spoken = says(played["documents"][0])
    assert {language for language, _ in spoken} == {"fr-CA"}
    assert [text for _, text in spoken].count(MESSAGE_FR) == 2
    assert Delivery.objects.get(alert=alert).status == "delivered"


def test_an_english_message_without_a_voice_text_is_read_in_english(phone, twilio):  # noqa: F811
    make_subscriber(voice="+14503702222", language="en")
    alert = voice_alert(voice_en="", body_en=MESSAGE_EN)
    send(alert)
    [played] = phone.play()
    spoken = says(played["documents"][0])
    assert {language for language, _ in spoken} == {"en-CA"}
    assert [text for _, text in spoken].count(MESSAGE_EN) == 2
    assert MESSAGE_FR not in [text for _, text in spoken]


@translation.override("en")
def test_the_officer_is_warned_that_english_subscribers_will_hear_french(db, twilio):
    alert = voice_alert(voice_en="", body_en="", status="draft")
    plan = services.sending_plan(alert)
    assert any("English-speaking subscribers will hear the French text" in warning
               for warning in plan.warnings)
    alert = voice_alert(status="draft")
    assert not any("English-speaking" in w for w in services.sending_plan(alert).warnings)
