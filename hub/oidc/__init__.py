"""Single sign-on: the hub is an OpenID Connect provider (django-oauth-toolkit).

The city's other online services and the mobile apps sign residents in with the one
Espace citoyen account: authorization code with PKCE, discovery, JWKS, userinfo, refresh
tokens and RP-initiated logout.  Scopes decide what is shared (``openid profile email
phone address``) and what a token may do on ``/api/v1/`` (``requetes:write`` …).
"""
