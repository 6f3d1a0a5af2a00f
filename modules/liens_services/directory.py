"""The city's other online services (the editable snippet replaces this list later)."""

from django.utils.translation import gettext_lazy as _

SERVICES = [
    {
        "title": _("Urban-planning requests"),
        "description": _("Permits and certificates: renovation, construction, pool, fence."),
        "url": "https://www.ville.valleyfield.qc.ca/",
        "category": _("Permits"),
    },
    {
        "title": _("Property assessment roll"),
        "description": _("Look up the assessed value of a property."),
        "url": "https://www.ville.valleyfield.qc.ca/",
        "category": _("Taxes and assessment roll"),
    },
    {
        "title": _("Sport-Plus"),
        "description": _("Registration for leisure activities and day camp."),
        "url": "https://www.ville.valleyfield.qc.ca/",
        "category": _("Leisure"),
    },
]
