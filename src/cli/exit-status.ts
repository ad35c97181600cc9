// What `sluice` exit statuses mean, in a module of their own so that the entry point can use them without
// loading the commands.
export const EXIT_OK = 0;
/** The broker or the command failed at run time (unreachable broker, Kafka error, I/O error). */
export const EXIT_FAILURE = 1;
/** A usage mistake: unknown command or option, bad value. */
export const EXIT_USAGE = 2;
