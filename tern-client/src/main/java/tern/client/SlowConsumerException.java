package tern.client;

import tern.protocol.ErrorCode;

/**
 * The server closed the connection because a subscription with policy DISCONNECT could not keep up
 * (ERROR SLOW_CONSUMER). Reported to {@link ConnectionListener#onError}; the client reconnects when
 * reconnect is enabled.
 */
public final class SlowConsumerException extends ServerException {
    private static final long serialVersionUID = 1L;

    public SlowConsumerException(String text) {
        super(ErrorCode.SLOW_CONSUMER, text);
    }
}
