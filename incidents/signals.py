"""The one seam through which `incidents` tells the rest of the portal what happened.

`incident_event_recorded` is sent once for every Event, after the transaction that recorded
it has committed (never for a rolled-back change). Receivers get `event_id`, `incident_id`
and `kind` and must not assume anything else. `support` listens to queue its escalation rules;
notifications hang off it too. Receivers must be quick and must never fail the sender: they
queue work, and the database (the Event row) is the durable record a sweeper can re-read.
"""

from django.dispatch import Signal

incident_event_recorded = Signal()
