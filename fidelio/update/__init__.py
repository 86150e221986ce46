"""Software updates from the shop's hub, with no internet at the kiosk: signed release bundles,
releases side by side under /opt/fidelio, an atomic switch, a health check and an automatic rollback."""
