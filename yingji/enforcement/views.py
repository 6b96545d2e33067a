def enterprise_panel(request, enterprise):
    return None
