"""Constants of the G90 Cloud integration."""

from typing import Final

DOMAIN: Final = "g90_cloud"
