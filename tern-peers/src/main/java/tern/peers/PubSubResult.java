package tern.peers;

/**
 * One W1/W2 run. deliveredPerSec = delivered / (last delivery - first publish); publishPerSec =
 * published / time the publisher spent in its publish loop.
 */
record PubSubResult(long published, long expected, long delivered, long wrongSize, double deliveredPerSec,
                    double publishPerSec) {
    long lost() {
        return expected - delivered;
    }
}
