"""What ``/api/docs/`` says at the top: how an app signs in, step by step.

The text is the schema's ``info.description`` (``SPECTACULAR_SETTINGS["DESCRIPTION"]``), a
lazy string: the schema is generated in the request's language (``/api/schema/?lang=en``,
or the language the locale middleware picked), French first; the committed
``docs/openapi.yaml`` is the French one (``make schema`` runs with ``--lang fr``).  The
scope table is built from ``hub.oidc.scopes.all_scopes`` when the schema is generated, so
a module's scopes (``hub_oauth_scopes``) are listed while the module is enabled.

Nothing here imports a model: ``hub/settings.py`` imports this module while settings load.
"""

from __future__ import annotations

import re

from django.utils.functional import lazy
from django.utils.translation import get_language

# The routes the explanation names, also the OpenAPI ``oauth2`` flow's URLs
# (SPECTACULAR_SETTINGS); relative to the site, as Swagger UI resolves them.
AUTHORIZATION_URL = "/o/authorize/"
TOKEN_URL = "/o/token/"  # noqa: S105 (a route, not a secret)
PRIVATE_USE_SCHEME = "ca.valleyfield.espacecitoyen"

FRENCH = """\
API versionnée de l'Espace citoyen pour les applications mobiles et les services partenaires \
(*English version: add `?lang=en` to this page's address*).

## Se connecter depuis une application, étape par étape

Les routes publiques (catégories, modules, recherche) répondent sans jeton. Les autres \
demandent un **jeton d'accès OAuth 2.0** émis par le fournisseur OpenID Connect du portail \
(sous `/o/`), envoyé dans l'en-tête `Authorization: Bearer <jeton>`. Il n'y a pas d'autre \
sorte de jeton : une application obtient les siens par le flux ci-dessous (code \
d'autorisation avec PKCE), jamais avec le mot de passe du résident.

1. **Inscrire l'application auprès de la Ville.** Un administrateur crée le client dans \
l'administration (« Clients d’authentification unique ») : type de client *public* \
(une application mobile ne peut garder aucun secret), octroi *Authorization code*, \
et ses adresses de retour (`redirect_uri`, comparées exactement). Pour une application \
native (RFC 8252) :
   - un schéma d'URI privé, celui de la Ville : `{scheme}:/oauth2redirect` (§ 7.1) ;
   - ou une adresse `https` revendiquée par l'application (lien universel ou App Link, § 7.2) ;
   - ou, en développement seulement, une adresse de bouclage `http://127.0.0.1/callback` \
(§ 7.3 : le port est libre à chaque demande). La production refuse `http`.
2. **Préparer PKCE** (RFC 7636, obligatoire pour tous les clients) : tirer un \
`code_verifier` aléatoire (43 à 128 caractères) et calculer \
`code_challenge = BASE64URL(SHA256(code_verifier))`. Seule la méthode `S256` est acceptée. \
Tirer aussi un `state` aléatoire.
3. **Ouvrir le navigateur du système** (pas une vue web intégrée) sur `{authorize}` avec \
`response_type=code`, `client_id`, `redirect_uri`, `scope` (par exemple \
`openid profile requetes:read requetes:write`), `state`, `code_challenge` et \
`code_challenge_method=S256`.
4. **Le résident se connecte et consent.** Le portail revient à `redirect_uri` avec \
`code`, `state` et `iss` (RFC 9207). Vérifier que `state` est celui envoyé et que `iss` est \
l'émetteur publié par la découverte (`/.well-known/openid-configuration`).
5. **Échanger le code** : `POST {token}` (formulaire) avec `grant_type=authorization_code`, \
`code`, `redirect_uri`, `client_id` et `code_verifier`. La réponse donne `access_token` \
(valable une heure, `expires_in`), `refresh_token`, `id_token` et les portées accordées \
(`scope`). Garder les jetons dans le stockage sécurisé du téléphone.
6. **Appeler l'API** avec `Authorization: Bearer <access_token>`. Jamais dans l'adresse : \
un jeton en `?access_token=` est refusé. Une réponse `401` avec \
`WWW-Authenticate: Bearer error="invalid_token"` veut dire « jeton expiré, révoqué ou \
inconnu » : le rafraîchir. Une réponse `403` `insufficient_scope` nomme la portée qui manque.
7. **Rafraîchir** : `POST {token}` avec `grant_type=refresh_token`, `refresh_token` et \
`client_id`. Chaque rafraîchissement donne un **nouveau** jeton de rafraîchissement \
(rotation) : remplacer l'ancien, qui ne sert plus. Présenter un ancien jeton révoque toute \
la famille et le résident devra se reconnecter. Un jeton de rafraîchissement vit 30 jours.
8. **Se déconnecter** : `POST /o/revoke_token/` avec le jeton et `client_id`, puis \
éventuellement `/o/logout/` (déconnexion initiée par le client, OpenID Connect). Le \
résident peut aussi retirer l'accès à tout moment dans « Services qui utilisent mon \
compte » de Mon Espace.

Le bouton **Authorize** de cette page suit le même flux (code d'autorisation avec PKCE) : \
il demande l'identifiant d'un client public dont une adresse de retour est \
`https://<site>/api/docs/oauth2-redirect.html`.

## Portées

Une application demande seulement les portées dont elle a besoin ; chaque route indique \
la sienne (cadenas). Ce que chaque portée permet, tel que l'écran de consentement le dit \
au résident :

{scopes}
"""

ENGLISH = """\
Versioned API of Espace citoyen for mobile apps and partner services.

## Signing in from an app, step by step

Public routes (categories, modules, search) answer without a token. The others need an \
**OAuth 2.0 access token** issued by the portal's OpenID Connect provider (under `/o/`), \
sent in the `Authorization: Bearer <token>` header. There is no other kind of token: an \
app gets its tokens through the flow below (authorization code with PKCE), never with the \
resident's password.

1. **Register the app with the city.** An administrator creates the client in the admin \
("Sign-on clients"): client type *public* (a mobile app cannot keep a secret), \
grant *Authorization code*, and its redirect URIs (`redirect_uri`, matched exactly). For a \
native app (RFC 8252):
   - a private-use URI scheme, the city's: `{scheme}:/oauth2redirect` (§ 7.1);
   - or an `https` address claimed by the app (universal link or App Link, § 7.2);
   - or, in development only, a loopback address `http://127.0.0.1/callback` (§ 7.3: any \
port at request time). Production refuses `http`.
2. **Prepare PKCE** (RFC 7636, required for every client): draw a random `code_verifier` \
(43 to 128 characters) and compute `code_challenge = BASE64URL(SHA256(code_verifier))`. \
Only the `S256` method is accepted. Draw a random `state` too.
3. **Open the system browser** (not an embedded web view) at `{authorize}` with \
`response_type=code`, `client_id`, `redirect_uri`, `scope` (for example \
`openid profile requetes:read requetes:write`), `state`, `code_challenge` and \
`code_challenge_method=S256`.
4. **The resident signs in and consents.** The portal comes back to `redirect_uri` with \
`code`, `state` and `iss` (RFC 9207). Check that `state` is the one sent and that `iss` is \
the issuer published by discovery (`/.well-known/openid-configuration`).
5. **Exchange the code**: `POST {token}` (form-encoded) with \
`grant_type=authorization_code`, `code`, `redirect_uri`, `client_id` and `code_verifier`. \
The answer gives `access_token` (valid one hour, `expires_in`), `refresh_token`, \
`id_token` and the granted scopes (`scope`). Keep the tokens in the phone's secure storage.
6. **Call the API** with `Authorization: Bearer <access_token>`. Never in the URL: a token \
in `?access_token=` is refused. A `401` with `WWW-Authenticate: Bearer \
error="invalid_token"` means "expired, revoked or unknown token": refresh it. A `403` \
`insufficient_scope` names the missing scope.
7. **Refresh**: `POST {token}` with `grant_type=refresh_token`, `refresh_token` and \
`client_id`. Each refresh gives a **new** refresh token (rotation): replace the old one, \
which no longer works. Presenting an old one revokes the whole family and the resident \
must sign in again. A refresh token lives 30 days.
8. **Sign out**: `POST /o/revoke_token/` with the token and `client_id`, then optionally \
`/o/logout/` (OpenID Connect RP-initiated logout). The resident can also withdraw access at \
any time under "Services using my account" in Mon Espace.

This page's **Authorize** button follows the same flow (authorization code with PKCE): it \
asks for the client ID of a public client with \
`https://<site>/api/docs/oauth2-redirect.html` among its redirect URIs. On a development \
server (`make run`), the demo registers one, `documentation-api-demo`, already filled in.

## Scopes

An app asks only for the scopes it needs; each route shows its own (padlock). What each \
scope allows, as the consent screen tells the resident:

{scopes}
"""


def french_typography(text: str) -> str:
    """A no-break space before « : ; ! ? » and inside guillemets (outside code spans,
    where no such space is ever written)."""
    text = re.sub(r" ([:;!?»])", "\u00a0\\1", text)
    return text.replace("« ", "«\u00a0")


FRENCH = french_typography(FRENCH)


def scope_table(scopes: dict, heading: tuple[str, str]) -> str:
    rows = [f"| {heading[0]} | {heading[1]} |", "| --- | --- |"]
    rows += [f"| `{name}` | {description} |" for name, description in scopes.items()]
    return "\n".join(rows)


def description() -> str:
    """The description in the active language (French unless English is asked for)."""
    from hub.oidc.scopes import all_scopes  # the plugin manager: not while settings load

    english = (get_language() or "fr").startswith("en")
    text = ENGLISH if english else FRENCH
    heading = ("Scope", "What it allows") if english else ("Portée", "Ce qu'elle permet")
    scopes = {name: str(text_) for name, text_ in all_scopes().items()}
    return text.format(scheme=PRIVATE_USE_SCHEME, authorize=AUTHORIZATION_URL,
                       token=TOKEN_URL, scopes=scope_table(scopes, heading))


DESCRIPTION = lazy(description, str)()
