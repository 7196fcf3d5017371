<?php
// Runs PHP code for ever without calling out of the VM.

function busy($n)
{
    $i = 0;
    while (true) {
        $i++;
    }
}

busy(7);
