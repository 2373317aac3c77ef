package tern.broker;

import java.util.Map;
import tern.protocol.ErrorCode;

/**
 * A snapshot of a broker's counters. Counts are totals since start unless named "current".
 * Message and byte counts are folded in once per read burst, so a snapshot may trail the wire by
 * one burst.
 *
 * @param connections              current client connections (admitted, not yet closed)
 * @param connectionsAccepted      connections admitted since start
 * @param connectionsRejected      connections refused at accept (max connections reached, shutting down)
 * @param subscriptions            current subscriptions over all connections
 * @param msgsIn                   PUB frames routed
 * @param msgsOut                  MSG frames queued to subscriber sockets
 * @param bytesIn                  bytes read from client sockets
 * @param bytesOut                 MSG frame bytes queued to subscriber sockets
 * @param slowConsumerDrops        deliveries dropped for DROP_OLDEST subscriptions (reported to clients in DROPPED)
 * @param slowConsumerDisconnects  connections closed with SLOW_CONSUMER
 * @param pendingBytesHighWater    most bytes ever queued for one connection's socket (bounded by maxPendingBytes
 *                                 plus one control frame)
 * @param waitingBytesHighWater    most bytes ever held in one connection's DROP_OLDEST queues (bounded by
 *                                 maxPendingBytes)
 * @param errors                   ERROR frames sent, by code (codes never sent are absent)
 * @param queues                   current durable and transient queues
 * @param queueDepth               ready messages over all queues (delayed ones included)
 * @param queueUnacked             delivered, unsettled messages over all queues
 */
public record BrokerStats(int connections, long connectionsAccepted, long connectionsRejected, int subscriptions,
                          long msgsIn, long msgsOut, long bytesIn, long bytesOut, long slowConsumerDrops,
                          long slowConsumerDisconnects, long pendingBytesHighWater, long waitingBytesHighWater,
                          Map<ErrorCode, Long> errors, int queues, long queueDepth, long queueUnacked) {
    public BrokerStats {
        errors = Map.copyOf(errors);
    }

    /** ERROR frames sent with this code. */
    public long errors(ErrorCode code) {
        return errors.getOrDefault(code, 0L);
    }

    /** Operations refused by the user's permissions (PUB, SUB, queue and admin operations): PERMISSION_DENIED sent. */
    public long permissionDenials() {
        return errors(ErrorCode.PERMISSION_DENIED);
    }

    /** Failed logins: AUTH_FAILED sent (counted when decided, before the throttle's delay). */
    public long authFailures() {
        return errors(ErrorCode.AUTH_FAILED);
    }
}
