"""Signals portal sends to the apps that build on it (portal imports neither of them).

`person_deactivated` (sender: the User model; `person`, `actor`): sent by
`portal.services.person_deactivate` inside its transaction, after the account is inactive.
incidents returns the person's open incidents to their desk; support returns their open cases
to the team inbox. A receiver that fails rolls the deactivation back, so nothing is half done.
"""

from django.dispatch import Signal

person_deactivated = Signal()
