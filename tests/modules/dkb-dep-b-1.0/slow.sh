#!/bin/sh
# PRE_BUILD: take a while, so that ordering mistakes show.
sleep 2
