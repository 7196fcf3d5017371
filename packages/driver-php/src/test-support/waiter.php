<?php
// Waits in a known stack for a debugger: writes PHP's own view of that stack
// (debug_backtrace) as JSON to the file named by its first argument, then
// sleeps in usleep() for ever.

class Greeter
{
    public function __construct(private string $greeting)
    {
    }

    public function greet(string $who, int $times, array $extra = [])
    {
        return self::relay($who, $times * 1.5, null, true);
    }

    public static function relay($who, $ratio, $nothing, $flag)
    {
        return wait_here($who, new Greeter("hi"), [1, 2]);
    }
}

function wait_here($who, $greeter, $list)
{
    $trace = debug_backtrace(DEBUG_BACKTRACE_PROVIDE_OBJECT);
    file_put_contents($GLOBALS['argv'][1], json_encode(array_map(fn ($f) => [
        'function' => $f['function'],
        'class' => $f['class'] ?? null,
        'type' => $f['type'] ?? null,
        'line' => $f['line'],
        'args' => array_map(fn ($a) => is_object($a) ? ['object' => get_class($a)] : $a, $f['args']),
    ], $trace)));
    while (true) {
        usleep(20000);
    }
}

(new Greeter("hello"))->greet("world", 3, ["a" => 1, 7 => [true]]);
