from portal.constants import EmergencyNumber


def portal(request):
    """What the base layout needs on every page: the emergency number for this person."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        number = user.emergency_number
    else:
        number = EmergencyNumber.NETHERLANDS
    return {"emergency_number": number}
