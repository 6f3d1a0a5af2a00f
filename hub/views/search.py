"""The hub search page (``/fr/recherche/?q=…``)."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from hub.i18n import current_language
from hub.search import MAX_QUERY_LENGTH, search


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), max_length=MAX_QUERY_LENGTH, required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


@require_GET
def search_page(request):
    form = SearchForm(request.GET or None)
    hits = []
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        hits = search(query, language=current_language(), request=request)
    return render(request, "hub/search.html", {"form": form, "query": query, "hits": hits},
                  status=400 if form.errors else 200)
