<?php
// Calls a few kinds of function in a loop, slowly, for a debugger to probe:
// untyped (its RECVs skipped), typed, with a default left out, a method and
// an internal function.

class Counter
{
    public int $total = 0;

    public function tick(int $n): void
    {
        $this->total += $n;
    }
}

function plain($i, $label)
{
    return strlen($label) + $i;
}

function typed(int $i, string $label): int
{
    return $i * 2;
}

function with_default($i, $step = 5)
{
    return $i + $step;
}

$counter = new Counter();
for ($i = 0; ; $i++) {
    plain($i, "p$i");
    typed($i, "t$i");
    with_default($i);
    $counter->tick($i);
    strrev("r$i");
    usleep(5000);
}
