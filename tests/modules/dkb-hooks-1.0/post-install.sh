#!/bin/bash
# POST_INSTALL of dkb-hooks: run (as root) from the tree's source/.
touch /var/lib/dkms/dkb-hooks-post-install.ran
exec sleep "$(cat post.sleep)"
