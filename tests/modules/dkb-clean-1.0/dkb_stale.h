/* A stale generated file that dkms.conf's CLEAN removes before make. */
#error "dkb_stale.h is still here: CLEAN did not run before make"
