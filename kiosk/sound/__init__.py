"""Sound: the cues and spoken guidance a screen or a guest's move calls for (Kivy-free).

``guide.SoundGuide`` follows the journey's channel and decides what to play (``cues``,
``speech``); the player itself is a device (``hardware.audio``). ``guide.open_sound``
builds it from ``[sound]`` (``settings``) and ``[devices.audio]``.
"""
