"""The Fidelio kiosk: the counter's card reader, printer and screen, and its link to the hub."""
