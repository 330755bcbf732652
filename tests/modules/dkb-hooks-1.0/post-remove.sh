#!/bin/bash
# POST_REMOVE of dkb-hooks.
touch /var/lib/dkms/dkb-hooks-post-remove.ran
