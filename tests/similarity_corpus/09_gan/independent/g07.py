import keras
import tensorflow as tf


def bce_with_logits(labels, logits):
    """Stable BCE: max(z, 0) - z * y + log(1 + exp(-|z|)), averaged."""
    z = tf.convert_to_tensor(logits)
    y = tf.cast(labels, z.dtype)
    return tf.reduce_mean(tf.maximum(z, 0.0) - z * y + tf.math.log1p(tf.exp(-tf.abs(z))))


def discriminator_loss(logits_real, logits_fake):
    loss = bce_with_logits(1.0, logits_real) + bce_with_logits(0.0, logits_fake)
    return loss


def generator_loss(logits_fake):
    loss = bce_with_logits(1.0, logits_fake)
    return loss


def build_generator(latent_dim, hidden_units, data_dim):
    return mlp(latent_dim, hidden_units, data_dim, "generator")


def build_discriminator(data_dim, hidden_units):
    return mlp(data_dim, hidden_units, 1, "discriminator")


def mlp(n_in, n_hidden, n_out, name):
    x = keras.Input(shape=(n_in,))
    y = keras.layers.Dense(n_out)(keras.layers.Dense(n_hidden, "relu")(keras.layers.Dense(n_hidden, "relu")(x)))
    return keras.Model(inputs=x, outputs=y, name=name)


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    def d_objective():
        return discriminator_loss(discriminator(real, training=True),
                                  discriminator(generator(noise, training=True), training=True))

    def g_objective():
        return generator_loss(discriminator(generator(noise, training=True), training=True))

    losses = []
    for objective, model, optimizer in ((d_objective, discriminator, d_optimizer),
                                        (g_objective, generator, g_optimizer)):
        with tf.GradientTape() as tape:
            value = objective()
        optimizer.apply_gradients(zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))
        losses.append(value)
    return losses[0], losses[1]
