#!/bin/sh
echo whoami-from-kiln
